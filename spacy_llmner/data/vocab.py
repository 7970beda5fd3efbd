"""Word lists: hard negatives (clinical text that must NOT be tagged) and organisation name parts.

Hard negatives look like entities to a naive tagger: numbers with units, codes, eponyms that
contain a person's or a place's name, titles without a name, room numbers, relative times.
"""

from __future__ import annotations

import random

# Drug -> typical doses, so that "metformin 500 mg" reads like a real order.
DRUG_DOSES: dict[str, tuple[str, ...]] = {
    "metformin": ("500 mg", "850 mg", "1000 mg"), "lisinopril": ("5 mg", "10 mg", "20 mg", "40 mg"),
    "atorvastatin": ("10 mg", "20 mg", "40 mg", "80 mg"), "amlodipine": ("2.5 mg", "5 mg", "10 mg"),
    "levothyroxine": ("25 mcg", "50 mcg", "75 mcg", "100 mcg"), "omeprazole": ("20 mg", "40 mg"),
    "sertraline": ("50 mg", "100 mg"), "gabapentin": ("100 mg", "300 mg", "600 mg"),
    "apixaban": ("2.5 mg", "5 mg"), "warfarin": ("1 mg", "2 mg", "5 mg"),
    "insulin glargine": ("10 units", "20 units", "24 units"), "albuterol": ("90 mcg", "2 puffs"),
    "prednisone": ("5 mg", "10 mg", "20 mg", "40 mg"), "amoxicillin": ("250 mg", "500 mg", "875 mg"),
    "ibuprofen": ("200 mg", "400 mg", "600 mg"), "acetaminophen": ("500 mg", "650 mg", "1000 mg"),
    "paracetamol": ("500 mg", "1 g"), "furosemide": ("20 mg", "40 mg", "80 mg"),
    "metoprolol": ("25 mg", "50 mg"), "losartan": ("25 mg", "50 mg", "100 mg"),
    "hydrochlorothiazide": ("12.5 mg", "25 mg"), "ondansetron": ("4 mg", "8 mg"),
    "ceftriaxone": ("1 g", "2 g"), "vancomycin": ("1 g", "15 mg/kg"), "heparin": ("5000 units",),
    "morphine": ("2 mg", "4 mg", "10 mg/5 mL"), "oxycodone": ("5 mg", "10 mg"), "tramadol": ("50 mg",),
    "fluoxetine": ("20 mg", "40 mg"), "citalopram": ("10 mg", "20 mg"), "montelukast": ("10 mg",),
    "tamsulosin": ("0.4 mg",), "clopidogrel": ("75 mg",), "aspirin": ("81 mg", "75 mg", "325 mg"),
    "enoxaparin": ("40 mg", "1 mg/kg"), "methotrexate": ("15 mg", "20 mg"),
    "semaglutide": ("0.25 mg", "0.5 mg", "1 mg"), "empagliflozin": ("10 mg", "25 mg"),
    "salbutamol": ("100 mcg", "2.5 mg nebulised"), "co-amoxiclav": ("625 mg",),
    "doxycycline": ("100 mg",), "nitrofurantoin": ("100 mg", "50 mg"), "pantoprazole": ("40 mg",),
    "amoxicillin suspension": ("250 mg/5 mL", "5 mL"), "lactulose": ("15 mL", "20 mL"),
    "Lipitor": ("20 mg", "40 mg"), "Eliquis": ("5 mg",), "Xarelto": ("20 mg", "15 mg"),
    "Ozempic": ("0.5 mg", "1 mg"), "Synthroid": ("50 mcg", "88 mcg"), "Ventolin": ("100 mcg",),
    "Tylenol": ("500 mg", "325 mg"), "Advil": ("200 mg",),
}
DRUGS = tuple(DRUG_DOSES)
FLUIDS = ("normal saline 500 mL", "normal saline 1000 mL", "Hartmann's solution 1000 mL",
          "D5W 250 mL", "0.9% NaCl 1 L", "Ringer's lactate 500 mL")
DOSE_UNITS = ("mg", "mg", "mg", "mcg", "mL", "g", "units", "mg/kg", "mg/mL", "IU")
DOSE_AMOUNTS = ("0.5", "1", "2", "2.5", "5", "10", "12.5", "20", "25", "40", "50", "75", "100",
                "250", "400", "500", "1000")
FREQUENCIES = (
    "once daily", "twice daily", "BID", "TID", "QID", "q6h", "q8h", "PRN", "at bedtime",
    "every 8 hours", "twice a day", "every morning", "weekly", "as needed", "with meals",
)
ROUTES = ("PO", "IV", "orally", "subcutaneously", "IM", "by mouth", "inhaled")
CONDITIONS = (
    "type 2 diabetes mellitus", "hypertension", "COPD", "asthma", "atrial fibrillation",
    "congestive heart failure", "CKD stage 3", "major depressive disorder", "GERD",
    "hypothyroidism", "osteoarthritis", "community-acquired pneumonia", "a UTI", "migraine",
    "COVID-19", "cellulitis", "iron deficiency anemia", "obstructive sleep apnea",
    "hyperlipidemia", "generalized anxiety disorder", "chronic low back pain", "gout",
    "type 1 diabetes", "psoriasis", "sepsis", "an acute kidney injury", "a DVT",
)
EPONYMS = (
    "Parkinson's disease", "Alzheimer's disease", "Crohn's disease", "Hodgkin lymphoma",
    "Graves' disease", "Cushing's syndrome", "Down syndrome", "Bell's palsy",
    "Guillain-Barre syndrome", "Hashimoto's thyroiditis", "Addison's disease",
    "Huntington's disease", "Raynaud's phenomenon", "Barrett's esophagus", "Kaposi sarcoma",
    "Wilms tumor", "Sjogren's syndrome", "Tourette syndrome", "Meniere's disease", "Paget's disease",
    "Marfan syndrome", "Ménière's disease",
)
# Diseases named after places: a place name inside them is not a LOCATION.
PLACE_DISEASES = ("Lyme disease", "West Nile virus", "Rocky Mountain spotted fever", "Ebola",
                  "Japanese encephalitis", "Zika virus", "Lassa fever", "Coxsackie virus",
                  "Norwalk virus", "German measles")
EPONYM_THINGS = (
    "a Foley catheter", "a Holter monitor", "the Epley maneuver", "a Whipple procedure",
    "a positive Murphy's sign", "a negative Babinski sign", "the Glasgow Coma Scale",
    "an Apgar score of 9", "a Nissen fundoplication", "a Swan-Ganz catheter",
)
ICD10 = (
    "E11.9", "I10", "J45.909", "M54.5", "Z79.4", "I48.91", "N18.3", "F32.9", "K21.9", "E03.9",
    "J18.9", "N39.0", "G43.909", "U07.1", "L03.115", "D50.9", "G47.33", "E78.5", "R07.9",
    "S72.001A", "M17.11", "F41.1", "G20", "Z00.00",
)
CPT = ("99213", "99214", "93000", "80053", "85025", "36415", "71046", "99285", "90471",
       "97110", "45378", "20610", "93306", "99203", "81001")
LABS = (
    "HbA1c {v1}%", "Na {na} mmol/L", "K {k} mmol/L", "creatinine {cr} mg/dL",
    "eGFR {egfr} mL/min/1.73m2", "WBC {wbc} x10^9/L", "Hgb {hgb} g/dL", "platelets {plt}",
    "LDL {ldl} mg/dL", "TSH {tsh} mIU/L", "CRP {crp} mg/L", "troponin <0.01 ng/mL",
    "INR {inr}", "glucose {glu} mg/dL", "potassium {k}",
)
VITALS = (
    "BP {sys}/{dia}", "BP {sys}/{dia} mmHg", "HR {hr}", "pulse {hr} bpm", "RR {rr}",
    "T {temp} °C", "temp {tempf} F", "SpO2 {spo2}% on room air", "weight {wt} kg",
    "BMI {bmi}", "pain {pain}/10", "O2 sat {spo2}%",
)
ROOMS = (
    "Room {n}", "room {n}", "Bed {b}", "bed {b}", "Bay {s}", "Ward {s}", "ICU bed {s}",
    "exam room {s}", "Room {n}{l}", "OR {s}",
)
ROLES = (
    "the attending physician", "the on-call resident", "the charge nurse", "our nurse practitioner",
    "the pharmacist", "the cardiologist", "your PCP", "the covering physician", "the surgeon",
    "the physician assistant", "the triage nurse", "the duty doctor", "the registrar",
    "Chief of Cardiology", "the social worker", "the dietitian", "the GP",
)
RELATIVE_TIMES = (  # past only: templates read "started {reltime}"
    "yesterday", "this morning", "last night", "two weeks ago", "today", "earlier this week",
    "over the weekend", "last month", "3 days ago", "a few days ago", "at the weekend",
)
DURATIONS = ("3 days", "2 weeks", "10 days", "6 weeks", "3 months", "48 hours", "a week",
             "several months", "5 days", "1 year")
SYMPTOMS = (
    "chest pain", "shortness of breath", "a productive cough", "dizziness", "fatigue",
    "headache", "lower back pain", "nausea and vomiting", "fever", "palpitations",
    "abdominal pain", "a rash on the forearm", "swelling in both ankles", "insomnia",
    "joint pain", "blurred vision", "a sore throat", "burning on urination",
)
PROCEDURES = ("an ECG", "a chest X-ray", "a CT of the abdomen", "an MRI of the lumbar spine",
              "a colonoscopy", "an echocardiogram", "a CBC and BMP", "a lipid panel",
              "a urinalysis", "an ultrasound", "spirometry", "a stress test")
SPECIALTIES = ("cardiology", "endocrinology", "orthopedics", "neurology", "dermatology",
               "gastroenterology", "physical therapy", "oncology", "rheumatology", "urology",
               "pulmonology", "psychiatry", "nephrology")
KIN = ("mother", "father", "sister", "brother", "maternal aunt", "paternal grandfather", "son",
       "daughter")
RELATIONS = ("daughter", "son", "wife", "husband", "partner", "mother", "father", "sister",
             "brother", "caregiver", "neighbour", "friend")

# Codes that look like identifiers but name a test, gene, marker or product, never a person.
LAB_CODES = ("HbA1c", "CD4", "CD4 count", "BRCA1", "HER2", "PSA", "IL-6", "HLA-B27", "H1N1", "B12",
             "T4", "NT-proBNP", "ApoB", "G6PD", "JAK2 V617F", "CYP2D6", "Factor V Leiden", "CA-125",
             "D-dimer", "Marker12", "anti-CCP")
PRODUCT_CODES = ("K2-30", "FreeStyle Libre 2", "Dexcom G7", "Omnipod 5", "model X200",
                 "kit A7", "AccuChek Guide", "type 2R cartridge", "size 7.5 gloves", "catalog no. K2-30")
VERSIONS = ("version 2.4.1", "v3.1", "iOS 17.2", "Android 14", "app version 5.0.3", "release 2.0",
            "build 4417", "v1.12")
# A year in a non-personal context ("the 2019 guideline") is not DATE_TIME: it describes no one.
YEAR_CONTEXTS = ("the {y} guideline", "the {y} guidelines", "the {y} consensus criteria",
                 "the {y} revised criteria", "the {y} formulary", "the {y} update of the scoring system",
                 "the {y} flu season vaccine")
# Clinical shorthand: abbreviations a model must read through, never tags.
SHORTHAND_SYMPTOMS = ("CP", "SOB", "N/V", "HA", "abd pain", "LBP", "dysuria", "palps", "DOE", "cough x3d")
SHORTHAND_CONDITIONS = ("HTN", "DM2", "T2DM", "CAD", "CHF", "COPD", "AF", "CKD3", "HLD", "OSA", "GERD",
                        "hypoTSH", "MDD", "OA")
SHORTHAND_PROCS = ("CABG", "PCI", "lap chole", "TKR", "THR", "appy", "TURP", "CS", "EGD")
HASHTAGS = ("#diabetes", "#T1D", "#chronicillness", "#spoonie", "#mentalhealth", "#recovery",
            "#chemo", "#nhs", "#healthcare", "#MSawareness", "#migraine", "#longcovid", "#caregiver",
            "#fitness", "#grateful", "#ouch", "#nurselife")
EMOJI = ("🙏", "😩", "💪", "😷", "❤️", "🤞", "🙄", "😅")

# Organisation name parts (fictional combinations plus a few real, public insurer/pharmacy names).
ORG_ADJ = ("Riverside", "Northside", "Lakeview", "Mercy", "Providence", "Summit", "Valley",
           "Harbor", "Pinecrest", "Evergreen", "Sunrise", "Meadowbrook", "Bayside", "Hillcrest",
           "Cedar", "Unity", "Crescent", "Westfield", "Oakridge", "Highland")
SAINTS = ("Mary's", "Luke's", "Joseph's", "Vincent's", "Jude's", "Anne's", "Michael's", "Thomas'")
INSURERS = ("Blue Cross Blue Shield", "Aetna", "Cigna", "UnitedHealthcare", "Humana",
            "Kaiser Permanente", "Bupa", "Medibank", "Sun Life", "Manulife", "HCF", "AXA Health")
PHARMACY_CHAINS = ("Walgreens", "CVS Pharmacy", "Boots", "Shoppers Drug Mart", "Rite Aid",
                   "Chemist Warehouse", "Lloyds Pharmacy", "Priceline Pharmacy")

# ICU nursing shorthand: never PHI (hard negatives for clinical notes as nurses write them).
ICU_VITALS = (
    "HR {hr}S NSR", "HR {hr}-{hr2} SR, NO ECTOPY", "BP {sys}-{sys2}/{dia}S", "SBP {sys}S-{sys2}S",
    "MAP >65", "MAPS {dia}-{dia2}", "RR {rr}-{rr2}", "SATS {spo2}-100% ON {o2}L NC", "TMAX {tempf}",
    "CVP {s}-{s2}", "hr {hr}'s afib", "bp stable {sys}/{dia}", "sat {spo2}% on 40% FM", "RR mid {rr}s",
    "u/o {n}cc/hr", "I/O +{n}cc", "FS {glu}", "temp max {temp}", "CI {ci}", "PAP {rr}/{dia}",
)
DRIPS = (
    "LEVOPHED @ 0.0{s}MCG/KG/MIN", "levophed gtt at 0.{s} mcg/kg/min", "propofol {b}mcg/kg/min",
    "insulin gtt {s}u/hr", "heparin gtt @ {n}u/hr", "NS @ {b}0cc/hr", "D5W @ KVO", "neo @ {b}0 mcg/min",
    "FENTANYL {b}MCG/HR", "versed {s}mg/hr", "K+ 40meq IV x1", "MSO4 {s}mg IVP q{s}h prn",
    "5MCG/KG/MIN", "precedex 0.{s}mcg/kg/hr", "lasix {b}mg iv", "TF @ {b}cc/hr, goal {n}",
)
LAB_PANELS = (
    "K+ {k} / BS {glu} / PTT {ptt}", "HCT {hct}, K {k}, MG {mg}", "ABG 7.{ph}/{pco2}/{po2}",
    "LYTES REPLETED", "na {na} k {k} cl {cl} co2 {co2}", "WBC {wbc}/HCT {hct}/PLT {plt}",
    "INR {inr}, PTT {ptt}", "LACTATE {mg}", "CK {n}, TROP 0.0{s}", "BUN/CR {bun}/{cr}",
)
ICU_FINDINGS = (
    "AFEBRILE", "ALERT, ORIENTED X3", "A&OX3", "MAE", "PERRLA", "LUNGS CLEAR", "LS COARSE BILAT",
    "ABD SOFT, NT/ND", "+BS", "FOLEY DRAINING CLEAR YELLOW URINE", "NO ACUTE EVENTS", "DENIES PAIN",
    "SKIN INTACT", "FOLLOWS COMMANDS", "SEDATED, RESPONDS TO VOICE", "NSR NO ECTOPY", "PULSES +2",
    "TOL TF WELL", "BM X1 GUAIAC NEG", "OOB TO CHAIR", "NPO", "FULL CODE", "DNR/DNI", "CALM AND COOPERATIVE",
    "Parkinson's disease", "FOLEY D/C'D", "C/O INCISIONAL PAIN", "SWAN IN PLACE", "R IJ CVL", "A-LINE DAMPENED",
)
SHIFTS = ("7a-7p", "7p-7a", "7A-7P", "7P-7A", "0700-1900", "1900-0700", "3-11", "11-7", "days", "nights",
          "this shift", "overnight", "NOC")


def fill_numbers(rng: random.Random, pattern: str) -> str:
    """Fill the numeric placeholders of a lab/vital/room pattern with plausible values."""
    values = {
        "v1": f"{rng.uniform(5.2, 11.5):.1f}", "na": str(rng.randint(128, 146)),
        "k": f"{rng.uniform(3.1, 5.6):.1f}", "cr": f"{rng.uniform(0.6, 2.8):.2f}",
        "egfr": str(rng.randint(25, 110)), "wbc": f"{rng.uniform(3.5, 17.0):.1f}",
        "hgb": f"{rng.uniform(8.5, 16.5):.1f}", "plt": str(rng.randint(90, 420)),
        "ldl": str(rng.randint(60, 190)), "tsh": f"{rng.uniform(0.2, 9.5):.2f}",
        "crp": str(rng.randint(1, 180)), "inr": f"{rng.uniform(0.9, 3.6):.1f}",
        "glu": str(rng.randint(70, 320)), "sys": str(rng.randint(98, 182)),
        "dia": str(rng.randint(55, 108)), "hr": str(rng.randint(48, 128)),
        "rr": str(rng.randint(12, 28)), "temp": f"{rng.uniform(36.1, 39.4):.1f}",
        "tempf": f"{rng.uniform(97.0, 102.8):.1f}", "spo2": str(rng.randint(86, 100)),
        "wt": str(rng.randint(48, 140)), "bmi": f"{rng.uniform(18.0, 41.0):.1f}",
        "pain": str(rng.randint(0, 10)), "n": str(rng.randint(100, 950)),
        "b": str(rng.randint(1, 40)), "s": str(rng.randint(1, 12)), "l": rng.choice("ABCD"),
        "hr2": str(rng.randint(60, 140)), "sys2": str(rng.randint(100, 190)), "dia2": str(rng.randint(60, 110)),
        "rr2": str(rng.randint(16, 34)), "o2": str(rng.randint(1, 6)), "s2": str(rng.randint(8, 16)),
        "ci": f"{rng.uniform(1.8, 3.8):.1f}", "ptt": f"{rng.uniform(22, 95):.1f}", "hct": f"{rng.uniform(21, 45):.1f}",
        "mg": f"{rng.uniform(1.2, 3.4):.1f}", "ph": str(rng.randint(20, 48)), "pco2": str(rng.randint(28, 60)),
        "po2": str(rng.randint(55, 240)), "cl": str(rng.randint(95, 112)), "co2": str(rng.randint(18, 32)),
        "bun": str(rng.randint(8, 80)),
    }
    return pattern.format(**values)


def dose(rng: random.Random, drug: str | None = None) -> str:
    """A dosage for ``drug`` (or any), sometimes glued (``5mg``): never an entity."""
    if drug in DRUG_DOSES:
        text = rng.choice(DRUG_DOSES[drug])
    else:
        text = f"{rng.choice(DOSE_AMOUNTS)} {rng.choice(DOSE_UNITS)}"
    if text.endswith(" mg") and rng.random() < 0.1:
        text = text[:-3] + "mg"
    return text
