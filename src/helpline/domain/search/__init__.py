"""Help-center search: BM25F ranking, stemming per language, typos, prefixes, highlights.

Pure and in memory: the service layer feeds it articles or canned responses and
keeps it current; nothing here touches the database.
"""

from helpline.domain.search.index import DEFAULT_FIELD_WEIGHTS, Hit, SearchIndex
from helpline.domain.search.text import Analyzer, fold, normalise_language

__all__ = [
    "DEFAULT_FIELD_WEIGHTS",
    "Analyzer",
    "Hit",
    "SearchIndex",
    "fold",
    "normalise_language",
]
