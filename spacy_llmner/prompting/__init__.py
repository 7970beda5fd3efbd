"""Prompting: label presets, the versioned prompt conversation, and the chat-template frame.

Pure logic — no torch, no loaded model (the frame needs only a tokenizer's template/encode).
"""

from .frame import ChatFrame, chat_frame, check_prefix_consistency, encode_segments, eos_ids
from .prompt import TaggedResponse, XMLPrompt
from .labels import HIPAA, PRESETS, LabelsArg, is_valid_label, make_labels, resolve_labels
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
    "LabelsArg",
    "Message",
    "PromptExample",
    "build_messages",
    "check_template_version",
    "chat_frame",
    "check_prefix_consistency",
    "default_example",
    "document_message",
    "encode_segments",
    "eos_ids",
    "flatten",
    "is_valid_label",
    "make_labels",
    "resolve_labels",
    "TaggedResponse",
    "XMLPrompt",
]
