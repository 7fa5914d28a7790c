"""Stop words per language, written without diacritics (they are compared folded).

Short lists on purpose: only words that carry no meaning in a help-center query.
Negations ("not", "nie", "non", "δεν") are left out because "not working" differs
from "working".
"""

# ruff: noqa: RUF001 (Greek text on purpose)

from __future__ import annotations

ENGLISH = """
a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for
from further had has have having he her here hers herself him himself his how i if in
into is it its itself just me more most my myself of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself
yourselves s t d ll m re ve
"""

POLISH = """
a aby ale albo ani bardzo bez bo by byc byl byla byli bylo beda bedzie ci cie co czy
dla do gdy gdzie go i ich im ja jak jaki jaka jakie jego jej jem jest jestem jestes
jesli jeszcze juz ktora ktore ktory ktorzy ktorej mi mna mnie moj moja moje mu my na
nad nam nas nasz nasza nasze o od on ona one oni ono oraz po pod przez przy sa sie
sobie ta tak takze tam te tego tej ten to tu tutaj ty tylko w we wiec wszystko z za ze
zeby u
"""

ITALIAN = """
a ad agli ai al all alla alle allo anche avere c che chi ci coi col come con contro cui
d da dagli dai dal dall dalla dalle dallo degli dei del dell della delle dello di dov
dove e ed era essere gli ha hai hanno ho i il in io l la le lei li lo loro lui ma mi
mia mie miei mio ne negli nei nel nell nella nelle nello noi o per perche piu qual
quale quali quando quanto quella quelle quelli quello questa queste questi questo se
sei si sia siamo siete sono su sua sue sugli sui sul sull sulla sulle sullo suo suoi
ti tra tu tua tue tuo tuoi tutti tutto un una uno vi voi
"""

GREEK = """
ο η το οι τα του της των τον την τους τις στο στη στην στον στα στους στις στου στης
ενα ενας μια μιας ενος και κι η ειτε αλλα για με σε απο προς ως οτι που πως ποιος ποια
ποιο αυτο αυτος αυτη αυτα αυτοι αυτες αυτου αυτης αυτων εγω εσυ εμεις εσεις μου σου
μας σας του τους ειναι ειμαι εισαι ημουν ηταν εχω εχει εχουν θα να αν οταν επισης
"""

STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(ENGLISH.split()),
    "pl": frozenset(POLISH.split()),
    "it": frozenset(ITALIAN.split()),
    "el": frozenset(GREEK.split()),
}
