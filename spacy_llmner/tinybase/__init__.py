"""A small Qwen2/Llama built and pre-trained here from scratch: the package's test model.

Not the default base any more (that is a real pretrained LLM, see ``models/bases.py``); it stays
because tests and the decoding benchmark need a model that loads in a second, tags, and has
tokenizer quirks a real one has (tags as single tokens or split). ``python -m spacy_llmner
pretrain-base configs/base.cfg DIR`` still builds one.
"""
