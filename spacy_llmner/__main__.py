from spacy_llmner.cli import main

main()
