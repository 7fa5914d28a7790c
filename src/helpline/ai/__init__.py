"""Offline text intelligence for support conversations: language, category and urgency,
frustration and register, extractive summaries.

Nothing here touches the network or the database; heavier backends (n-gram and
embedding classifiers, an LLM endpoint) sit behind the interfaces in
`helpline.adapters.ai`.
"""
