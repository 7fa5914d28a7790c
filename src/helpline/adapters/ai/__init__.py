"""AI backends behind small interfaces: the default n-gram intent classifier, the optional
sentence-embedding backend, out-of-scope detection and an OpenAI-compatible LLM client."""
