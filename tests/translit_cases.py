"""Uzbek words exercising every positional transliteration rule, with the correct spelling in both scripts.

Shared by tests/test_translit.py and bench/translit.py. `back` is False where Latin spelling lost
information a rule cannot restore (ц written s after a consonant, ь before a vowel): the Cyrillic
given is still the correct one and the benchmark counts it, the tests only check the forward way.
"""

from __future__ import annotations

from typing import NamedTuple


class Pair(NamedTuple):
    cyrillic: str
    latin: str
    back: bool = True


PAIRS: list[Pair] = [
    # ў ғ (oʻ gʻ with U+02BB), case and ALL CAPS
    Pair("Ўзбекистон", "Oʻzbekiston"),
    Pair("ЎЗБЕКИСТОН", "OʻZBEKISTON"),
    Pair("ўзбек", "oʻzbek"),
    Pair("ғалаба", "gʻalaba"),
    Pair("Ғафур", "Gʻafur"),
    Pair("тўғри", "toʻgʻri"),
    Pair("боғ", "bogʻ"),
    Pair("ўғил", "oʻgʻil"),
    Pair("ЎҒИЛ", "OʻGʻIL"),
    Pair("йўл", "yoʻl"),
    Pair("қўшни", "qoʻshni"),
    # ш ч digraphs, case
    Pair("Шавкат", "Shavkat"),
    Pair("ШАВКАТ", "SHAVKAT"),
    Pair("ЧОРШАНБА", "CHORSHANBA"),
    Pair("Чорвоқ", "Chorvoq"),
    Pair("кенгаш", "kengash"),
    Pair("КЕНГАШ", "KENGASH"),
    # нг stays ng
    Pair("янги", "yangi"),
    Pair("Тошкент", "Toshkent"),
    # е: ye at word start and after vowels, e after consonants
    Pair("ер", "yer"),
    Pair("Европа", "Yevropa"),
    Pair("поезд", "poyezd"),
    Pair("Тоқаев", "Toqayev"),
    Pair("Мирзиёев", "Mirziyoyev"),
    Pair("келди", "keldi"),
    Pair("кейин", "keyin"),
    Pair("сенат", "senat"),
    Pair("Президент", "Prezident"),
    # э
    Pair("Эркин", "Erkin"),
    Pair("аэропорт", "aeroport"),
    Pair("поэзия", "poeziya"),
    # ё ю я
    Pair("ёшлар", "yoshlar"),
    Pair("Ёқубов", "Yoqubov"),
    Pair("иқтисодиёт", "iqtisodiyot"),
    Pair("юрт", "yurt"),
    Pair("ЮНЕСКО", "YUNESKO"),
    Pair("ярим", "yarim"),
    Pair("Яқин Шарқ", "Yaqin Sharq"),
    # қ ҳ х
    Pair("қишлоқ", "qishloq"),
    Pair("ҳоким", "hokim"),
    Pair("шаҳар", "shahar"),
    Pair("ислоҳот", "islohot"),
    Pair("Тоҳир", "Tohir"),
    Pair("хабар", "xabar"),
    Pair("Хоразм", "Xorazm"),
    Pair("Хитой", "Xitoy"),
    # сҳ is sʼh, not sh
    Pair("Исҳоқ", "Isʼhoq"),
    Pair("асҳоб", "asʼhob"),
    # ъ and the tutuq belgisi (U+02BC)
    Pair("маъно", "maʼno"),
    Pair("таълим", "taʼlim"),
    Pair("қатъий", "qatʼiy"),
    Pair("шеър", "sheʼr"),
    Pair("эълон", "eʼlon"),
    Pair("саъй-ҳаракат", "saʼy-harakat"),
    Pair("МАЪНО", "MAʼNO"),
    # ъ before е/ё/ю/я in Russian loanwords
    Pair("объект", "obyekt"),
    Pair("субъект", "subyekt"),
    # ц: s at word start and after consonants, ts after vowels
    Pair("цирк", "sirk", back=False),
    Pair("концерт", "konsert", back=False),
    Pair("станция", "stansiya", back=False),
    Pair("милиция", "militsiya"),
    Pair("вице-премьер", "vitse-premyer", back=False),
    # ь dropped
    Pair("октябрь", "oktyabr"),
    Pair("сентябрь", "sentyabr"),
    Pair("компьютер", "kompyuter", back=False),
    Pair("Нью-Йорк", "Nyu-York", back=False),
    Pair("район", "rayon"),
    # plain words and phrases
    Pair("мактаб", "maktab"),
    Pair("вазирлик", "vazirlik"),
    Pair("мустақиллик", "mustaqillik"),
    Pair("муаммо", "muammo"),
    Pair("оила", "oila"),
    Pair("сайлов", "saylov"),
    Pair("Исроил", "Isroil"),
    Pair("Олий Мажлис", "Oliy Majlis"),
    Pair("Ўзбекистон Республикаси Президенти", "Oʻzbekiston Respublikasi Prezidenti"),
    Pair("Сиёсат", "Siyosat"),
    Pair("2025 йил 15 ноябрь", "2025 yil 15 noyabr"),
]

# Latin written with other apostrophes, all meaning the same Cyrillic.
LATIN_VARIANTS: list[tuple[str, str]] = [
    ("O'zbekiston", "Ўзбекистон"),
    ("O‘zbekiston", "Ўзбекистон"),
    ("O’zbekiston", "Ўзбекистон"),
    ("O`zbekiston", "Ўзбекистон"),
    ("Oʼzbekiston", "Ўзбекистон"),
    ("g'alaba", "ғалаба"),
    ("to‘g‘ri", "тўғри"),
    ("Is'hoq", "Исҳоқ"),
    ("ma'no", "маъно"),
    ("ta’lim", "таълим"),
]

# Spellings a search must treat as the same word: fold() gives every member of a group one key.
FOLD_GROUPS: list[list[str]] = [
    ["Oʻzbekiston", "O'zbekiston", "O‘zbekiston", "O’zbekiston", "O`zbekiston", "Ozbekiston", "Ўзбекистон",
     "ЎЗБЕКИСТОН", "OʻZBEKISTON", "ozbekiston"],
    ["Mirziyoyev", "Мирзиёев", "MIRZIYOYEV", "МИРЗИЁЕВ"],
    ["Toqayev", "Тоқаев", "ТОҚАЕВ"],
    ["Gʻafur", "G'afur", "G‘afur", "Ғафур", "Gafur"],
    ["toʻgʻri", "to'g'ri", "to‘g‘ri", "тўғри", "togri"],
    ["Isʼhoq", "Is'hoq", "Исҳоқ"],
    ["maʼno", "ma'no", "ma’no", "маъно", "mano"],
    ["hokim", "ҳоким", "хоким", "Hokim", "xokim"],
    ["Xorazm", "Хоразм", "Horazm"],
    ["Toshkent", "Тошкент", "TOSHKENT"],
    ["Yevropa", "Европа"],
    ["siyosat", "Сиёсат", "Siyosat"],
    ["yangiliklar", "янгиликлар", "Yangiliklar"],
    ["qoʻshni", "qo'shni", "қўшни"],
    ["iqtisodiyot", "иқтисодиёт"],
]
