"""Document kinds and the clause pools they are composed from.

A document is an optional opener, a random sample of body clauses, clauses that guarantee the
document's focus labels, and an optional closer. Pools are large and sampled without replacement,
and slots vary every value's format, so no two documents share a fixed template. Hard negatives
(doses, codes, eponyms, vitals, labs, rooms, titles without names) live in the body clauses.
Room, bed and bay numbers are not PII here (they identify a place in a ward, not a person), so
they are never tagged.

Registers: "formal" (notes, letters), "casual" (patient messages), "dialogue" (chats, calls),
"form" (key-value forms, tables) and "social" (posts: short informal sentences, hashtags and
@handles, which stay untagged). Kinds marked ``heldout`` are never drawn for train or dev when a
corpus is built with held-out templates (see ``heldout.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .labels import HIPAA_LABELS
from .slots import template_labels


@dataclass(frozen=True)
class Kind:
    """One document kind: its register (which focus pool fills in labels), pools and layout."""

    name: str
    register: str  # "formal", "casual", "dialogue" or "form"
    openers: tuple[str, ...]
    body: tuple[str, ...]
    closers: tuple[str, ...]
    sep: str = " "  # between body clauses
    head_sep: str = " "  # after the opener
    tail_sep: str = " "  # before the closer
    body_weights: tuple[int, ...] = (1, 3, 5, 5, 3, 2, 1)  # weight of 0, 1, 2 ... body clauses
    p_opener: float = 0.85
    p_closer: float = 0.5
    presets: dict[str, object] = field(default_factory=dict)  # per-document context defaults
    weight: int = 10
    natural: frozenset[str] | None = None  # labels that fit this kind best (None: all of them)
    p_lower: float = 0.0  # chance the whole document is lower case (chat, quick messages)
    p_upper: float = 0.0  # chance the whole document is ALL CAPS (many clinical systems)
    heldout: bool = False  # a test-only kind: its layout is never seen in training


# --- focus pools: per register, per label, clauses that certainly contain that label ----------

FOCUS: dict[str, dict[str, tuple[str, ...]]] = {
    "formal": {
        "PERSON": (
            "I spoke with {his} {rel}, {contact}, who is worried about the falls.",
            "{pt_ref} was brought in by {his} {rel} {contact_first}.",
            "Pt seen w/ {dr}; plan agreed.",
            "{pt} attended with {his} {rel} and was seen by {nurse_full}.",
            "{pt_ref} was accompanied by {his} {rel}, {contact}.",
            "Case discussed with {dr}, who agrees with the plan.",
            "Collateral history was obtained from {contact} ({rel}).",
            "{pt} was reviewed on the ward round by {dr}.",
            "Next of kin: {contact} ({rel}).",
            "Seen jointly with {nurse_full}, RN.",
        ),
        "LOCATION": (
            "{He} walked from {his} home on {street} to the bus stop and collapsed.",
            "{pt_ref} moved to {city} last year to be closer to family.",
            "Pt lives @ {addr}.",
            "Found by neighbours outside {his} flat at {addr}.",
            "{He} lives at {addr} with {his} {rel}.",
            "Home address: {addr}.",
            "{pt_ref} was transferred from a nursing home in {city}.",
            "Lives alone in {city_region} and is independent with ADLs.",
            "Correspondence address:\n{addr_ml}\n",
            "Postal code on file: {postcode}.",
            "{He} recently moved to {city} from {region}.",
        ),
        "DATE_TIME": (
            "On {date_full} {he} attended the emergency department with {symptom}.",
            "Pt last seen {date}, f/u {future_date}.",
            "Seen at {time} on the ward round.",
            "Onset of symptoms {datetime}, brought in by ambulance.",
            "Admitted on {adm_date} and discharged on {dis_date}.",
            "Last seen in clinic on {date}.",
            "Symptoms began on {date_full} at around {time}.",
            "History of appendectomy in {year}.",
            "Bloods drawn at {time} on {date_full}.",
            "Follow-up booked for {future_date}.",
            "Note written {datetime}.",
            "Diagnosed with {cond} in {month_year}.",
        ),
        "AGE": (
            "At {age2}, {his} {kin} had a stroke.",
            "{age_sex} w/ PMH {hx}, {hx} p/w {sx}.",
            "{pt_ref} is {aged} and lives alone.",
            "Pt {age_phrase}, c/o {sx} x {dur}.",
            "{pt_ref} is {a_age_phrase} {man} with a history of {cond}.",
            "{His} {kin} died of {cond} at the age of {age2}.",
            "The patient is {aged}.",
            "{age_phrase} {man} with {cond}, here for review.",
            "{He} {was} diagnosed with {epo} at {age2}.",
        ),
        "PHONE_NUMBER": (
            "{His} {rel} can be reached on {phone} after 5pm.",
            "Pt's cell {phone}.",
            "Contact number: {phone}.",
            "Please call the clinic on {phone} to arrange follow-up.",
            "{He} can be reached at {phone}.",
            "Results were faxed to {phone}.",
            "Out-of-hours line: {phone}.",
        ),
        "EMAIL_ADDRESS": (
            "{He} asked that letters also go to {pt_email}.",
            "Results will be emailed to {pt_email}.",
            "Copy sent to {dr_email}.",
            "The patient prefers contact by email ({pt_email}).",
            "Queries to {dr_email}.",
        ),
        "URL": (
            "The patient was directed to {url} for pre-operative instructions.",
            "Photos were uploaded via {url}.",
            "Portal link: {url}",
            "Leaflet available at {url}.",
        ),
        "IP_ADDRESS": (
            "Portal login recorded from IP {ip}.",
            "The telehealth session connected from {ip}.",
            "Access log shows a failed login from {ip} on {date_full}.",
        ),
        "US_SSN": (
            "{ssn_kv} verified at registration.",
            "SSN {ssn} on file.",
            "Identity confirmed with SSN {ssn}.",
        ),
        "MEDICAL_RECORD_NUMBER": (
            "MRN: {mrn}.",
            "Pt {pt}, MRN {mrn}, DOB {dob}.",
            "{pt} ({mrn_kv}) was seen in the emergency department.",
            "{mrn_kv}.",
            "Please quote MRN {mrn} on all correspondence.",
            "Patient identifiers: {pt}, {mrn_kv}.",
        ),
        "HEALTH_PLAN_ID": (
            "Insurance: {insurer}, {hpid_kv}.",
            "Coverage verified with {insurer} ({hpid_kv}).",
            "{hpid_kv} on file.",
            "Prior authorisation requested under member ID {hpid}.",
        ),
        "ACCOUNT_NUMBER": (
            "Balance transferred to {acct_kv}.",
            "Payment posted to account {acct}.",
            "Statement issued for the account ending {acct4}.",
        ),
        "CREDIT_CARD": (
            "Co-pay of {amount} charged to card {cc}.",
            "Card on file ending in {cc4}.",
            "Payment taken by phone, {cc_kv}.",
        ),
        "IBAN_CODE": (
            "Refund of {amount} to be paid to {iban_kv}.",
            "Direct debit set up from IBAN {iban}.",
        ),
        "US_DRIVER_LICENSE": (
            "Identity verified with {dl}.",
            "Photo ID: {dl}.",
        ),
        "LICENSE_NUMBER": (
            "Prescriber: {dr} ({lic}).",
            "Signed by {dr_sig}, {lic}.",
            "Prescriber {lic} confirmed.",
            "Identity checked against {lic_id}.",
        ),
        "VEHICLE_ID": (
            "{He} was the driver of the vehicle ({vehicle}) involved in the collision.",
            "Parking permit issued for {vehicle}.",
            "The police report lists {vehicle}.",
        ),
        "DEVICE_ID": (
            "Pacemaker interrogated ({device}); battery adequate.",
            "Insulin pump with {device} replaced under warranty.",
            "CGM sensor ({device}) linked to the account.",
            "Hearing aid ({device}) was sent for repair.",
        ),
        "Rx_NUMBER": (
            "{drug} {dose} {freq}, {rx_kv}, {n} refills.",
            "Refill authorised for {rx_kv}.",
            "Prescription {rx} transferred to another pharmacy.",
        ),
        "ORDER_NUMBER": (
            "Lab {order_kv} sent to {lab_org}.",
            "Imaging order {order} placed for {proc}.",
            "Supplies shipped under {order_kv}.",
        ),
        "ORGANIZATION": (
            "{He} has worked at {employer} for years and is off sick.",
            "Pt was seen at {hospital} ED {reltime}.",
            "Transferred from {hospital} for further care.",
            "Referred to {clinic} for {spec}.",
            "Prescription sent to {pharmacy}.",
            "Insured through {insurer}.",
            "Works full time at {employer}.",
            "Specimen processed by {lab_org}.",
        ),
    },
    "casual": {
        "PERSON": (
            "ok so {dr} said to stop the {drug} for now.",
            "{contact_first} is taking me home after.",
            "My {rel} {contact_first} will pick up the prescription.",
            "This is {contact}, writing on behalf of my {rel} {pt_first}.",
            "Please let {dr} know the swelling has gone down.",
            "I spoke to {nurse} at the front desk {reltime}.",
        ),
        "LOCATION": (
            "I'm at {street} now, the buzzer doesn't work.",
            "We just moved to {addr}, please update my file.",
            "I'm staying with my {rel} in {city} until {future_date}.",
            "Can you send the letter to:\n{addr_ml}\n",
            "Is the clinic on {street} open on weekends?",
            "I'm in {city} this week.",
        ),
        "DATE_TIME": (
            "My op is on {date} so I need the letter before then.",
            "Can I move my appointment to {future_date} at {time}?",
            "Is {future_date} still ok for the scan?",
            "I had the flu shot back in {month_year}.",
            "The pharmacy said it would be ready by {time}.",
            "I was last seen on {date}.",
        ),
        "AGE": (
            "I'm {age} and fit, is that normal?",
            "I'm {age} and have never had {cond} before.",
            "My {rel} is {age2} and lives with us.",
            "Our son is {child_age} and has {symptom}.",
        ),
        "PHONE_NUMBER": (
            "You can text me at {phone}.",
            "Call me back on {phone} please.",
            "My work number is {phone}.",
        ),
        "EMAIL_ADDRESS": (
            "My new email is {pt_email}.",
            "Please reply to {pt_email} instead.",
            "Can you cc my {rel} at {email}?",
        ),
        "URL": (
            "I found this on {url}, is it legit?",
            "Here's the link: {url}",
            "I wrote about it at {url}",
        ),
        "IP_ADDRESS": (
            "It says my IP {ip} is blocked?",
            "The app shows {ip} under connected devices.",
        ),
        "US_SSN": (
            "My social is {ssn}.",
            "Do you need my SSN? It's {ssn}.",
        ),
        "MEDICAL_RECORD_NUMBER": (
            "My hospital number is {mrn}.",
            "My MRN is {mrn} if that helps.",
        ),
        "HEALTH_PLAN_ID": (
            "My insurance ID is {hpid}.",
            "New member number: {hpid}",
        ),
        "ACCOUNT_NUMBER": (
            "The charge went to my account {acct}.",
            "Is account {acct} still active?",
        ),
        "CREDIT_CARD": (
            "You can charge it to my card {cc}.",
            "Use the visa ending {cc4}.",
            "My card number is {cc}.",
        ),
        "IBAN_CODE": (
            "Please refund it to my IBAN {iban}.",
            "Bank details: {iban}",
        ),
        "US_DRIVER_LICENSE": (
            "I can give you my {dl} if you need ID.",
            "For ID: {dl}.",
        ),
        "LICENSE_NUMBER": (
            "Is the {lic} on the form correct?",
            "The doctor's {lic} is printed on the letter.",
            "For ID I can give you my {lic_id}.",
        ),
        "VEHICLE_ID": (
            "My car is the blue one, {vehicle}.",
            "Can I get a parking pass for {vehicle}?",
        ),
        "DEVICE_ID": (
            "My glucose monitor ({device}) keeps disconnecting.",
            "The new pump's {device} is on the box.",
        ),
        "Rx_NUMBER": (
            "Refill for Rx {rx} please.",
            "Is {rx_kv} ready for pickup?",
        ),
        "ORDER_NUMBER": (
            "My supplies order {order} hasn't arrived.",
            "Any tracking for order #{order}?",
        ),
        "ORGANIZATION": (
            "I work at {employer} so mornings are hard.",
            "Can you send it to {pharmacy}?",
            "{insurer} says they need a prior auth.",
            "I was at {hospital} last week.",
        ),
    },
    "dialogue": {
        "PERSON": (
            "{ts}{them}: Can I get the patient's full name?\n{ts}{me}: {pt}.",
            "{ts}{me}: I'm calling about my {rel}, {contact}.",
            "{ts}{them}: Thanks, I've sent a message to {dr}.",
        ),
        "LOCATION": (
            "{ts}{them}: And your current address?\n{ts}{me}: {addr}.",
            "{ts}{me}: I live in {city} now, moved from {region} last year.",
        ),
        "DATE_TIME": (
            "{ts}{them}: What day works for you?\n{ts}{me}: {future_date}, any time after {time}.",
            "{ts}{me}: my last visit was on {date}",
            "{ts}{them}: Can you confirm your date of birth?\n{ts}{me}: {dob}",
        ),
        "AGE": (
            "{ts}{them}: And how old is the patient?\n{ts}{me}: {age}.",
            "{ts}{me}: I'm {age}, if that matters",
        ),
        "PHONE_NUMBER": (
            "{ts}{them}: What's the best number to reach you?\n{ts}{me}: {phone}",
            "{ts}{me}: call me on {phone}",
        ),
        "EMAIL_ADDRESS": (
            "{ts}{me}: you can email it to {pt_email}",
            "{ts}{them}: Is your email still {pt_email}?",
        ),
        "URL": ("{ts}{them}: You can book online at {url}", "{ts}{me}: the link was {url}"),
        "IP_ADDRESS": ("{ts}{them}: I can see a login attempt from {ip}, was that you?",),
        "US_SSN": ("{ts}{me}: my social security number is {ssn}",
                   "{ts}{them}: I'll need your SSN to verify.\n{ts}{me}: {ssn}"),
        "MEDICAL_RECORD_NUMBER": ("{ts}{them}: Do you have your medical record number?\n{ts}{me}: yes, {mrn}",),
        "HEALTH_PLAN_ID": ("{ts}{them}: And the member ID on your card?\n{ts}{me}: {hpid}",),
        "ACCOUNT_NUMBER": ("{ts}{them}: I have your billing account as {acct}, correct?",),
        "CREDIT_CARD": ("{ts}{me}: card number is {cc}", "{ts}{them}: The card ending {cc4}?"),
        "IBAN_CODE": ("{ts}{me}: my IBAN is {iban}",),
        "US_DRIVER_LICENSE": ("{ts}{them}: For ID I'll need a license.\n{ts}{me}: {dl}",),
        "LICENSE_NUMBER": ("{ts}{them}: The prescriber's {lic}.",
                           "{ts}{them}: Any photo ID?\n{ts}{me}: my {lic_id}"),
        "VEHICLE_ID": ("{ts}{them}: Which car will you park?\n{ts}{me}: {vehicle}",),
        "DEVICE_ID": ("{ts}{me}: the meter shows {device}",),
        "Rx_NUMBER": ("{ts}{me}: the number on the bottle is {rx}",),
        "ORDER_NUMBER": ("{ts}{them}: What's the order number?\n{ts}{me}: {order}",),
        "ORGANIZATION": ("{ts}{me}: my pharmacy is {pharmacy}", "{ts}{me}: I'm with {insurer}"),
    },
    "form": {
        "PERSON": ("Patient name: {pt}", "Emergency contact: {contact} ({rel})",
                   "Referring physician: {dr_name}", "Name: {pt}"),
        "LOCATION": ("Address: {addr}", "Address:\n{addr_ml}", "City: {city}", "Postcode: {postcode}"),
        "DATE_TIME": ("Date of birth: {dob}", "DOB: {dob}", "Date: {today}",
                      "Appointment: {future_date} at {time}", "Last visit: {date}"),
        "AGE": ("Age: {age}", "Age/Sex: {age}/{sex}"),
        "PHONE_NUMBER": ("{phone_kv}", "{fax_kv}"),
        "EMAIL_ADDRESS": ("{email_kv}",),
        "URL": ("Website: {url}", "Portal: {url}"),
        "IP_ADDRESS": ("IP address: {ip}", "Last login IP: {ip}"),
        "US_SSN": ("{ssn_kv}",),
        "MEDICAL_RECORD_NUMBER": ("{mrn_kv}",),
        "HEALTH_PLAN_ID": ("{hpid_kv}",),
        "ACCOUNT_NUMBER": ("{acct_kv}",),
        "CREDIT_CARD": ("{cc_kv}",),
        "IBAN_CODE": ("{iban_kv}",),
        "US_DRIVER_LICENSE": ("ID: {dl}", "Photo ID: {dl}"),
        "LICENSE_NUMBER": ("{lic}", "Prescriber {lic}", "ID: {lic_id}"),
        "VEHICLE_ID": ("Vehicle: {vehicle}",),
        "DEVICE_ID": ("Device: {device}", "{device}"),
        "Rx_NUMBER": ("{rx_kv}",),
        "ORDER_NUMBER": ("{order_kv}",),
        "ORGANIZATION": ("Employer: {employer}", "Preferred pharmacy: {pharmacy}", "Insurer: {insurer}",
                         "Facility: {hospital}"),
    },
    "social": {
        "PERSON": (
            "huge thanks to {dr} for actually listening {emoji}",
            "{contact_first} drove me to every single appointment, love you {emoji}",
            "shoutout to {other_first} on the night shift, absolute star {hashtag}",
        ),
        "LOCATION": (
            "anyone know a good GP near {city}? {hashtag}",
            "stuck at the clinic on {street} for 3 hours {emoji}",
            "moving to {city} next month, need a new endo",
        ),
        "DATE_TIME": (
            "surgery is on {future_date}, wish me luck {emoji}",
            "diagnosed {month_year}, still here {hashtag}",
            "appt at {time} and they are running late again",
            "one year since my transplant ({date_full}) {emoji}",
        ),
        "AGE": (
            "{age} and just got diagnosed with {cond} {emoji}",
            "turned {age} today and spent it in the ER lol",
            "my {rel} is {age2} and still walks 5k every day",
        ),
        "PHONE_NUMBER": (
            "text {phone} if you want to join the support group",
            "their number is {phone}, ask for the triage line",
        ),
        "EMAIL_ADDRESS": ("DM me or email {pt_email} {emoji}", "send your stories to {email}"),
        "URL": ("fundraiser for my treatment: {url} {hashtag}", "wrote about my diagnosis here {url}"),
        "IP_ADDRESS": ("my portal account got accessed from {ip}?? {emoji}",
                       "portal says last login from {ip}, that was not me"),
        "US_SSN": ("they literally printed my SSN {ssn} on the envelope {emoji}",
                   "why does a flu shot form need my social ({ssn})"),
        "MEDICAL_RECORD_NUMBER": ("my MRN is {mrn} and they STILL lost my file {emoji}",
                                  "hospital number {mrn}, round 3 of chemo {hashtag}"),
        "HEALTH_PLAN_ID": ("insurance rejected member ID {hpid} again {emoji}",
                           "new insurance card came, ID {hpid}, name spelled wrong"),
        "ACCOUNT_NUMBER": ("billing sent account {acct} to collections for a bill I paid {emoji}",
                           "hospital billing account {acct} shows a balance again??"),
        "CREDIT_CARD": ("the pharmacy charged card {cc} twice {emoji}",
                        "card ending {cc4} declined at the pharmacy, cool cool"),
        "IBAN_CODE": ("refund to {iban} still not here after 6 weeks {emoji}",
                      "clinic asked for my IBAN {iban} by email, is that a scam?"),
        "US_DRIVER_LICENSE": ("lost my wallet in the ER, {dl} if anyone finds it",
                              "they scanned my {dl} at check in, is that normal?"),
        "LICENSE_NUMBER": ("checked the doc's {lic} on the state board site, all legit",
                           "lost my {lic_id} in the waiting room {emoji}"),
        "VEHICLE_ID": ("someone dented my car in the hospital lot, {vehicle} {emoji}",
                       "ambulance bay blocked by {vehicle} for 20 min {hashtag}"),
        "DEVICE_ID": ("my new CGM ({device}) fell off after 2 days {emoji} {hashtag}",
                      "is pump {device} part of the recall??"),
        "Rx_NUMBER": ("pharmacy lost my refill, Rx {rx}, third time {emoji}",
                      "refill {rx_kv} still not ready {hashtag}"),
        "ORDER_NUMBER": ("test strips order {order} stuck in shipping {emoji}",
                         "order #{order} finally arrived {hashtag}"),
        "ORGANIZATION": (
            "{hospital} ER wait is 6 hours right now {emoji}",
            "shoutout to the nurses at {hospital} {hashtag}",
            "{insurer} denied my MRI again",
            "{pharmacy} is out of {drug} again {emoji}",
        ),
    },
}

# Labels that naturally occur in a kind; focus labels are mostly drawn from these.
_CORE = frozenset({"PERSON", "LOCATION", "DATE_TIME", "AGE", "PHONE_NUMBER", "EMAIL_ADDRESS",
                   "ORGANIZATION", "MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_ID"})
_CLINICAL = _CORE | {"DEVICE_ID", "LICENSE_NUMBER", "Rx_NUMBER", "ORDER_NUMBER", "VEHICLE_ID", "URL",
                     "US_SSN"}
_PHARMACY = _CORE | {"Rx_NUMBER", "ORDER_NUMBER", "CREDIT_CARD", "ACCOUNT_NUMBER", "LICENSE_NUMBER",
                     "US_DRIVER_LICENSE", "URL"}
_BILLING = _CORE | {"ACCOUNT_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "ORDER_NUMBER",
                    "US_DRIVER_LICENSE", "URL"}
_DEVICE = frozenset({"DEVICE_ID", "IP_ADDRESS", "URL", "DATE_TIME", "PERSON", "MEDICAL_RECORD_NUMBER",
                     "ORDER_NUMBER", "ORGANIZATION", "PHONE_NUMBER", "EMAIL_ADDRESS", "ACCOUNT_NUMBER"})
_INSTRUCTIONS = frozenset({"DATE_TIME", "PHONE_NUMBER", "URL", "ORGANIZATION", "PERSON", "LOCATION",
                           "Rx_NUMBER", "EMAIL_ADDRESS", "ORDER_NUMBER"})

# --- document kinds ----------------------------------------------------------------------------

_CLINICAL_BODY = (
    "Vitals: {vital}, {vital}, {vital}.",
    "Labs: {lab}, {lab}.",
    "Continue {drug} {dose} {freq}.",
    "Started on {drug} {dose} {route} {freq}.",
    "History of {cond} and {epo}.",
    "No signs of {epo} on exam.",
    "Family history of {epo} in {his} {kin}.",
    "Assessment: {cond} ({icd}), stable.",
    "Billed as CPT {cpt}.",
    "Exam notable for {epo_thing}.",
    "Plan: {proc} and review in {dur}.",
    "{He} denies {symptom}.",
    "Discussed with {role}, who agrees.",
    "Moved to {room} for monitoring.",
    "Reports {symptom}, onset {reltime}.",
    "Dose reduced to {dose} given {lab}.",
    "Referred to {spec}.",
    "Allergic to {drug} (rash).",
    "{lab}; {lab}.",
    "Lungs clear, heart sounds normal.",
    "{His} {rel} reports {symptom} at night.",
    "Seen by {dr} on {date}.",
    "{pt_ref} lives with {his} {rel} and is independent with ADLs.",
    "{pt_ref} is tolerating {drug} well.",
    "{pt_ref} lives in {city} with {his} {rel}.",
    "ICD-10 {icd}; CPT {cpt}.",
    "Hold {drug} for {dur}.",
    "Given {fluid} IV over {n} hours.",
    "Tested negative for {infection}.",
    "Smoker since {year}, {n} cigarettes a day.",
    "Returned from {country} {reltime}; {infection} considered unlikely.",
    # shorthand, lists and look-alike codes (hard negatives)
    "Pt c/o {sx} x {dur}.",
    "Hx {hx}, {hx}.",
    "s/p {sp} {reltime}, wound healing well.",
    "F/u w/ {spec} in {dur}.",
    "PMH:\n{problem_list}\n",
    "{labcode} pending; repeat {labcode} in {dur}.",
    "Per {yearctx}, target HbA1c below 7%.",
    "GCS 15/15 on the Glasgow Coma Scale, checked hourly.",
    "Mother reports {symptom} overnight.",
    "Pharmacy confirmed the {drug} dose.",
    "Patient tolerated the procedure well.",
    "Uses a {product} at home; data reviewed.",
    "Flushed with 5 mL saline; glucose 110 mg/dL.",
    "{labcode} negative, {labcode} within normal limits.",
    "EHR {version} downtime, note entered late.",
    "Metformin held; Crohn's flare excluded.",
    "Meds:\n{meds_table}\n",
)

_MESSAGE_BODY = (
    "I've been taking {drug} {dose} {freq} but still have {symptom}.",
    "Is {symptom} a side effect of {drug}?",
    "The pharmacy said I need a new prescription.",
    "I ran out of {drug} {reltime}.",
    "Could {role} call me back?",
    "My {rel} has {epo} so I'm worried about the risk.",
    "Do I need to fast before {proc}?",
    "I checked at home: {vital}.",
    "Sorry for the long message.",
    "The {symptom} started {reltime} and is getting worse.",
    "Should I still take my {drug} {dose} before the procedure?",
    "My {lab} result came back, what does it mean?",
    "I think the {drug} dose of {dose} is too strong.",
    "I was told to go to {room} but it was closed.",
    "Can I get a referral to {spec}?",
    "My appointment is with {dr} but I can't make it.",
    "I'm {age} so I wasn't sure if I qualify.",
    "I'm at my {rel}'s place in {city} this week.",
    "My {labcode} was high last time, should I worry?",
    "The app ({version}) keeps logging me out.",
    "Is the {product} covered by my plan?",
    "I read the {yearctx} says the dose should be lower.",
)

_DIALOGUE_BODY = (
    "{ts}{me}: I need to refill my {drug}",
    "{ts}{them}: Sure, which pharmacy do you use?",
    "{ts}{me}: is it ok to take {drug} with {drug}?",
    "{ts}{them}: I'll check with {role} and get back to you.",
    "{ts}{me}: been having {symptom}, started {reltime}",
    "{ts}{them}: Any other symptoms?",
    "{ts}{me}: no just that",
    "{ts}{them}: Thanks, I found your record.",
    "{ts}{me}: the dose is {dose} right?",
    "{ts}{them}: Please go to {room} when you arrive.",
    "{ts}{me}: my {kin} has {epo}, is that relevant?",
    "{ts}{me}: I read about {infection}, could it be that?",
    "{ts}{them}: I can book you in for {proc}.",
    "{ts}{me}: ok",
    "{ts}{them}: Can you confirm your date of birth?\n{ts}{me}: {dob}",
    "{ts}{me}: it's {pt} by the way",
    "{ts}{them}: One moment please.",
)

_ICU_BODY = (
    "NEURO: {finding}, {finding}.", "CV: {icu_vital}, {icu_vital}.", "RESP: {finding}, {icu_vital}.",
    "GI: {finding}, {finding}.", "GU: {finding}, {icu_vital}.", "ID: {finding}, {labcode} pending.",
    "{drip}; titrating to keep {icu_vital}.", "Labs: {lab_panel}.", "{lab_panel}, repleted per protocol.",
    "Cont {drip}.", "{finding}. {finding}. {finding}.", "Skin: {finding}.", "Pain: {vital}, {drip}.",
    "Endo: {icu_vital}, {drip}.", "Hx {hx}, {hx}, s/p {sp}.", "Plan: cont {drug} {dose}, f/u {labcode} in AM.",
    "Nursing progress note {shift}.", "Pt had uneventful {shift}.", "{shift}: {finding}, {finding}.",
    "At {mil_time} {icu_vital}, {drip} increased.", "Lytes checked at {mil_time}: {lab_panel}.",
    "{dr} aware.", "Paged {dr} re: {icu_vital}, no new orders.", "Social: {rel} in to visit, updated by {rn}.",
    "{rel} called for update, spoke w/ {rn}.", "Pt {age_sex} adm {short_date} w/ {sx}.",
    "Intubated {short_date} for {hx}.", "Hx of MI in {short_year}, CABG {short_year}.",
    "Transferred from {hospital} on {short_date}.", "Pt lives in {city} w/ {his} {rel}.",
    "Moved to {room}; {finding}.", "Report to {rn} at {mil_time}.", "Dispo: remains in MICU, {finding}.",
    "Code status: {finding}.", "{icu_vital}, {icu_vital}, {icu_vital}.", "Plan: wean {drip} as tol, {finding}.",
)


KINDS: tuple[Kind, ...] = (
    Kind(
        "clinical_note", "formal",
        openers=(
            "{pt_ref} is {a_age_phrase} {man} seen on {date_full} for follow-up of {cond}.",
            "{age_phrase} {man} presenting with {symptom} for {dur}.",
            "Progress note, {room}.",
            "S: {symptom}, started {reltime}.",
            "Follow-up visit for {cond}.",
            "CC: {symptom}.",
            "{pt} ({mrn_kv}) seen in clinic today.",
            "Telephone consultation with {pt_ref}.",
            "Review of {cond}.",
        ),
        body=_CLINICAL_BODY,
        closers=(
            "Follow up in {dur}.", "Return precautions given.",
            "Electronically signed by {dr_sig} on {datetime}.", "{dr_sig}",
            "Dictated but not read.", "Seen with {role}.",
        ),
        tail_sep="\n", weight=16, natural=_CLINICAL, p_lower=0.03, p_upper=0.12,
    ),
    Kind(
        "referral_letter", "formal",
        openers=(
            "Dear {dr2},", "Dear Colleague,", "To whom it may concern,", "Re: {pt}, DOB {dob}", "Re: {pt}, DOB {dob}\n{addr_ml}",
            "Dear {dr2},\n\nRe: {pt} ({mrn_kv})", "Dear {spec} team,",
        ),
        body=(
            "Thank you for seeing this {age_phrase} {man} with {cond}.",
            "I would be grateful for your opinion regarding {his} {symptom}.",
            "{He} has a background of {cond} and {epo}.",
            "Current medications include {drug} {dose} {freq} and {drug} {dose}.",
            "Recent bloods showed {lab} and {lab}.",
            "{He} {was} started on {drug} {reltime} with little benefit.",
            "{His} {rel} is {his} main carer.",
            "{He} can be contacted on {phone}.",
            "{proc} was unremarkable.",
            "I have asked {role} to arrange {proc}.",
            "There is no family history of {epo}.",
            "{He} had a hysterectomy in {year} and has {cond}.",
            "{pt_ref} would prefer an appointment at {hospital}.",
            "I would appreciate your advice on further management.",
        ),
        closers=(
            "Kind regards,\n{dr_sig}", "Yours sincerely,\n\n{dr_sig}\n{clinic}",
            "Yours sincerely,\n{dr_sig}\n{clinic}\n{addr_ml}", "Many thanks,\n{dr}",
            "Best wishes,\nThe {spec} team", "Yours sincerely",
        ),
        head_sep="\n\n", tail_sep="\n\n", p_opener=0.95, p_closer=0.8, weight=9,
        natural=_CLINICAL - {"VEHICLE_ID", "ORDER_NUMBER"},
    ),
    Kind(
        "discharge_summary", "formal",
        openers=(
            "DISCHARGE SUMMARY", "Discharge Summary - {hospital}", "Patient: {pt}  {mrn_kv}",
            "Admission date: {adm_date}  Discharge date: {dis_date}", "Discharge summary",
        ),
        body=(
            "Diagnosis: {cond} ({icd}).",
            "Secondary diagnoses: {cond}; {epo}.",
            "Procedures: {proc} on {date}.",
            "Hospital course: treated with {drug} {dose} {route} {freq} with improvement.",
            "Discharge medications: {drug} {dose} {freq}; {drug} {dose} {freq}.",
            "Stopped: {drug}.",
            "Received {fluid} on admission.",
            "Discharge vitals: {vital}, {vital}.",
            "Condition at discharge: stable.",
            "Discharged home with {his} {rel}.",
            "Pending: {proc}.",
            "Follow-up: {spec} clinic in {dur}.",
            "Bed: {room}.",
            "Admitted with {symptom}; found to have {cond}.",
            "Length of stay: {n} days.",
            "Discharged to a care home in {city}.",
        ),
        closers=("Discharging clinician: {dr_sig}", "Copy to GP.", "Summary completed {datetime} by {dr}."),
        sep="\n", head_sep="\n", tail_sep="\n", weight=9, natural=_CLINICAL, p_upper=0.15,
    ),
    Kind(
        "portal_message", "casual",
        openers=("{greet}", "Hello doctor,", "Good morning,", "Question about my {drug}.", "Hi there,"),
        body=_MESSAGE_BODY,
        closers=("Thanks,\n{pt_first}", "Thank you,\n{pt}", "Best,\n{pt_first}", "Thanks!", "Regards"),
        head_sep="\n", tail_sep="\n", body_weights=(0, 3, 5, 5, 3, 2, 1), p_closer=0.6, weight=12,
        p_lower=0.12,
    ),
    Kind(
        "email", "casual",
        openers=(
            "From: {pt} <{pt_email}>\nTo: {dr_email}\nSubject: Question about {drug}\n\n{greet}",
            "Subject: Appointment on {future_date}\n\n{greet}",
            "Subject: Re: test results\n\n{greet}",
            "Subject: Question about my medication\n\nHello,",
            "To: {dr_email}\nSubject: Refill\n",
        ),
        body=_MESSAGE_BODY + (
            "Please find the form attached.",
            "I have attached the letter from {hospital}.",
            "Let me know if you need anything else from me.",
        ),
        closers=("Sent from my iPhone", "Regards,\n{pt}", "--\n{pt_full}\n{phone}", "--\n{pt_full}\n{addr_ml}",
                 "Thanks,\n{pt_first}", "Kind regards"),
        head_sep="\n", tail_sep="\n\n", body_weights=(0, 3, 5, 5, 3, 2, 1), p_opener=0.9, p_closer=0.7,
        weight=10, p_lower=0.12,
    ),
    Kind(
        "chat", "dialogue",
        openers=("{ts}{me}: hi", "{ts}{me}: hello, quick question",
                 "{ts}{them}: Hi, thanks for contacting {clinic}! How can I help?",
                 "{ts}{them}: Hi there, how can I help today?"),
        body=_DIALOGUE_BODY,
        closers=("{ts}{me}: thanks!", "{ts}{them}: You're welcome, take care.", "{ts}{me}: ok bye"),
        sep="\n", head_sep="\n", tail_sep="\n", body_weights=(0, 2, 3, 4, 3, 2, 1), weight=10, p_lower=0.12,
    ),
    Kind(
        "call_transcript", "dialogue",
        openers=("{them}: Thank you for calling {clinic}, how can I help you?",
                 "{them}: {hospital} appointments line, how can I help?",
                 "{them}: Good morning, patient services.",
                 "Call recording {datetime}\n{them}: Hello, how can I help?"),
        body=_DIALOGUE_BODY + (
            "{me}: Hi, I'm calling about my {rel}'s appointment.",
            "{them}: Can I put you on hold for a moment?",
            "{me}: Someone called me {reltime} about my results.",
        ),
        closers=("{them}: Is there anything else I can help with?\n{me}: No, that's all, thanks.",
                 "{them}: Have a good day."),
        sep="\n", head_sep="\n", tail_sep="\n", body_weights=(0, 2, 3, 4, 3, 2, 1),
        presets={"use_ts": False}, weight=8, p_lower=0.12,
    ),
    Kind(
        "intake_form", "form",
        openers=("PATIENT INTAKE FORM", "New Patient Registration", "Intake - {clinic}",
                 "Registration form ({today})"),
        body=(
            "Allergies: {drug}", "Current medications: {drug} {dose} {freq}",
            "Reason for visit: {symptom}", "Past medical history: {cond}, {epo}",
            "Smoker: no", "Sex: {sex}", "Marital status: married", "Preferred language: English",
            "Weight: {vital}", "Previous surgery: none", "Family history: {epo}",
            "Primary care: {role}", "Name: {pt}", "DOB: {dob}", "{phone_kv}", "Address: {addr}",
            "Insurance: {insurer}, {hpid_kv}", "Photo ID: {dl}", "Smoker: former, quit in {year}",
        ),
        closers=("Signature: ____________", "Signed: {pt_full}  Date: {today}", "I consent to treatment."),
        sep="\n", head_sep="\n", tail_sep="\n", body_weights=(0, 1, 2, 3, 3, 2, 1), weight=9, p_upper=0.1,
    ),
    Kind(
        "pharmacy_record", "form",
        openers=("{pharmacy} - prescription label", "Refill request", "Pharmacy note {datetime}"),
        body=(
            "{drug} {dose}, {qty}", "Take {tabs} {freq}.", "Refills remaining: {n}",
            "NDC {ndc}", "Lot {lot}", "Prescriber: {dr}", "{rx_kv}", "Patient: {pt}", "Filled {date}",
            "Do not take with alcohol.", "Qty: {qty}", "Sig: {dose} {route} {freq}", "Deliver to: {addr}",
        ),
        closers=("Verified by the pharmacist.", "Keep out of reach of children."),
        sep="\n", head_sep="\n", tail_sep="\n", weight=6, natural=_PHARMACY, p_upper=0.2,
    ),
    Kind(
        "billing_note", "formal",
        openers=("Billing note:", "Statement for {pt}", "Account review {date_full}."),
        body=(
            "Claim for CPT {cpt} ({icd}) submitted to {insurer}.", "Patient responsibility: {amount}.",
            "Payment of {amount} received.", "Co-pay waived per policy.",
            "Claim denied, resubmitted with modifier 25.", "Balance due {amount}.",
            "Self-pay discount applied.", "Service: {proc}, {amount}.", "Statement mailed to {addr}.",
            "{hpid_kv}.", "Photo ID checked ({dl}).",
        ),
        closers=("Questions? Call {phone}.", "Thank you for your payment."),
        weight=5, natural=_BILLING,
    ),
    Kind(
        "device_log", "form",
        openers=("Remote monitoring report", "Device check {datetime}", "Telemetry upload"),
        body=(
            "Battery: {pct}%", "Last transmission: {reltime}", "Lead impedance {n}00 ohms", "Alerts: none",
            "AF burden {n}%", "Connected via app", "{device}", "Uploaded from {ip}", "Firmware 4.{n}.1",
            "Mode: DDDR 60", "Sensor glucose {lab}",
        ),
        closers=("Reviewed by {role}.", "Reviewed by {dr}."),
        sep="\n", head_sep="\n", tail_sep="\n", weight=4, natural=_DEVICE, p_upper=0.1,
    ),
    Kind(
        "instructions", "formal",
        openers=("Medication instructions:", "After your visit:", "Patient information"),
        body=(
            "Take {drug} {dose} {freq}.", "Do not exceed {n} doses in 24 hours.",
            "If you notice {symptom}, stop {drug} and call us.", "Book {proc} in {dur}.",
            "People with {epo} may need a lower dose.", "Drink plenty of fluids.",
            "Bring this sheet to {room}.", "{role} will review the results.",
            "Avoid driving for {dur}.", "Apply {dose} to the affected area {freq}.",
        ),
        closers=("Call {phone} with questions.", "Questions? Ask {role}."),
        sep=" ", head_sep="\n", tail_sep="\n", body_weights=(0, 3, 3, 2, 1), weight=6,
        natural=_INSTRUCTIONS,
    ),

    Kind(
        "social_post", "social",
        openers=("{emoji}", "PSA:", "ok rant time.", "update:", "Day {n} on {drug} {hashtag}",
                 "{handle} {handle}", "not me crying in the car park again {emoji}"),
        body=(
            "still have {symptom} {emoji}", "the {drug} is finally working {emoji}",
            "{handle} did you ever get {cond}?", "nurses are heroes {hashtag}",
            "anyone else get {symptom} on {drug}?", "waiting room vibes {emoji}",
            "my {labcode} came back normal!!", "{handle} thanks for the tips",
            "no more {drug} for me after this week", "the {yearctx} says otherwise tho",
            "updated the app to {version} and it logged me out", "lol", "10/10 would not recommend",
            "doc says {hx} is under control, we take those", "3 more weeks of this {emoji}",
            "if one more person tells me to try yoga", "got my {product} today, wish me luck",
            "{handle} {handle} you two were right about {proc}",
        ),
        closers=("{hashtag} {hashtag}", "{hashtag}", "{emoji}{emoji}", "thoughts? {handle}", "{hashtag} {emoji}"),
        head_sep=" ", tail_sep=" ", body_weights=(0, 0, 2, 4, 4, 3, 1), p_closer=0.8, weight=7,
        p_lower=0.3,
    ),
    Kind(
        "forum_post", "social",
        openers=("Re: {cond} and {drug}", "Posted by {handle}", "Title: anyone else with {epo}?",
                 "Question for people on {drug}"),
        body=(
            "I was diagnosed with {epo} a while back and started {drug} {dose} {freq}.",
            "My {labcode} keeps going up even though I follow the diet.",
            "The specialist said {hx} is common at my stage, but I am not so sure.",
            "{handle} mentioned {product} in another thread, has anyone tried it?",
            "My {rel} has the same thing and {his} doctor switched {him} to {drug}.",
            "I have read the {yearctx} and it says something different.",
            "Side effects so far: {symptom}, mostly in the mornings.",
            "Sorry if this is the wrong forum.",
        ),
        closers=("Edit: typo", "Thanks in advance!", "-- {handle}", "Any advice welcome."),
        sep=" ", head_sep="\n\n", tail_sep="\n\n", body_weights=(0, 1, 3, 4, 3, 1), weight=5,
        p_lower=0.1, heldout=True,
    ),
    Kind(
        "icu_nursing_note", "formal",
        openers=("NURSING PROGRESS NOTE {shift}", "MICU NSG NOTE", "Nursing progress note, {shift}:",
                 "CCU nursing {shift}", "NPN {shift}", "Nursing note {date} {shift}", "S/P {sp} DAY {n}"),
        body=_ICU_BODY,
        closers=("{rn}", "Will cont to monitor.", "See flowsheet for details.", "-- {rn}", "Plan: cont current care."),
        sep=" ", head_sep="\n", tail_sep=" ", body_weights=(0, 0, 1, 2, 3, 4, 3, 2), weight=10,
        natural=_CORE, p_upper=0.45, p_lower=0.1,
    ),
    Kind(
        "nursing_handoff", "formal",
        openers=("SBAR handoff", "Nursing handover {datetime}", "Shift report - {room}", "Handoff: {pt}"),
        body=(
            "S: {age_sex} adm w/ {sx}.", "B: hx {hx}, {hx}; s/p {sp}.", "A: VSS, {vital}, {vital}.",
            "R: cont {drug} {dose} {freq}, f/u {labcode} in AM.", "IV access R forearm, site clean.",
            "Fall risk high, bed alarm on.", "Family ({rel}) at bedside.", "{pt_ref} A&Ox3, ambulating w/ assist.",
            "NPO after midnight for {proc}.", "Pain {vital}, PRN {drug} given.", "I&O: {n}00 in, {n}00 out.",
        ),
        closers=("Handed over to {nurse_full}, RN.", "Report given to oncoming RN.", "Questions: {role}."),
        sep="\n", head_sep="\n", tail_sep="\n", body_weights=(0, 1, 3, 4, 3, 1), weight=6,
        natural=_CLINICAL, p_upper=0.5, heldout=True,
    ),
    Kind(
        "ward_list", "form",
        openers=("WARD CENSUS {today}", "Team list - {hospital}", "Patient list, {room}", "Handover sheet"),
        body=(
            "{census_table}", "{labs_table}", "{meds_table}", "{contacts_table}", "{appts_table}",
            "Notes: {hx}, {sx}", "Team: {role}", "Pending: {labcode}", "Beds free: {n}",
        ),
        closers=("Printed {datetime}", "Confidential: do not leave unattended.", "Page {n} of 12"),
        sep="\n\n", head_sep="\n", tail_sep="\n", body_weights=(0, 4, 2), weight=6, p_upper=0.15,
        natural=_CORE | {"DEVICE_ID", "ORDER_NUMBER"},
    ),
)

KINDS_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}


def _check_pools() -> None:
    """Fail at import if a pool names an unknown slot or a focus clause misses its label."""
    for kind in KINDS:
        for pool in (kind.openers, kind.body, kind.closers):
            for template in pool:
                template_labels(template)
    for register, pools in FOCUS.items():
        if set(pools) != set(HIPAA_LABELS):
            raise AssertionError(f"focus pools of '{register}' do not cover the label set")
        for label, templates in pools.items():
            for template in templates:
                if label not in template_labels(template):
                    raise AssertionError(f"focus clause for {label} cannot produce it: {template!r}")


_check_pools()
