"""Microsoft Presidio integration: recognizer, analyzer builder, HIPAA operators.

``spacy_llmner.presidio.build_analyzer`` is a contract (docs/presidio.md).
"""

from ._compat import require_presidio

require_presidio()

from . import yaml_config  # noqa: E402,F401  # lets a YAML registry declare LLMNERRecognizer
from .analyzer import (  # noqa: E402
    LLMNERAnalyzerEngine,
    OfflineEmailRecognizer,
    build_analyzer,
    default_pattern_recognizers,
)
from .anonymize import anonymize, anonymizer_engine, deanonymize  # noqa: E402
from .batch import LLMNERBatchAnalyzerEngine  # noqa: E402
from .mapping import HIPAA_ENTITIES, PRESIDIO_TO_HIPAA  # noqa: E402
from .nlp_engine import LLMNERNlpEngine  # noqa: E402
from .operators import MODES, Surrogate, SurrogateTable, hipaa_operators  # noqa: E402
from .overlaps import resolve_overlaps  # noqa: E402
from .recognizer import LLMNERRecognizer  # noqa: E402

__all__ = [
    "HIPAA_ENTITIES",
    "LLMNERAnalyzerEngine",
    "LLMNERBatchAnalyzerEngine",
    "LLMNERNlpEngine",
    "LLMNERRecognizer",
    "MODES",
    "OfflineEmailRecognizer",
    "PRESIDIO_TO_HIPAA",
    "Surrogate",
    "SurrogateTable",
    "anonymize",
    "anonymizer_engine",
    "build_analyzer",
    "deanonymize",
    "default_pattern_recognizers",
    "hipaa_operators",
    "resolve_overlaps",
]
