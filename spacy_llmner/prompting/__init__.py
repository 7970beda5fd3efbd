"""Prompting: label presets, the versioned prompt conversation, and the chat-template frame.

Pure logic — no torch, no loaded model (the frame needs only a tokenizer's template/encode).
"""

from .frame import (
    ChatFrame,
    PromptFrame,
    chat_frame,
    check_prefix_consistency,
    document_ids,
    encode_segments,
    eos_ids,
    prompt_frame,
)
from .labels import HIPAA, PRESETS, LabelsArg, is_valid_label, make_labels, resolve_labels
from .prompt import TaggedResponse, XMLPrompt
from .template import (
    TEMPLATE_VERSION,
    TEMPLATE_VERSIONS,
    Message,
    PromptExample,
    build_messages,
    check_template_version,
    default_example,
    document_message,
    flatten,
)

__all__ = [
    "HIPAA",
    "PRESETS",
    "TEMPLATE_VERSION",
    "TEMPLATE_VERSIONS",
    "ChatFrame",
    "PromptFrame",
    "LabelsArg",
    "Message",
    "PromptExample",
    "build_messages",
    "check_template_version",
    "chat_frame",
    "check_prefix_consistency",
    "default_example",
    "document_ids",
    "document_message",
    "encode_segments",
    "eos_ids",
    "flatten",
    "is_valid_label",
    "make_labels",
    "prompt_frame",
    "resolve_labels",
    "TaggedResponse",
    "XMLPrompt",
]
