"""Write trilink/data/screening/corpus.csv: a labelled corpus for name screening.

Positives: every listed name of the shipped SDN excerpt, and variants a screener meets
in practice — other cases and punctuation, legal forms added or dropped, words
reordered, one typo (seeded), abbreviations, other romanisations, and the names in
Hangul (and kanji where one exists) as Korean and Japanese documents write them.
Hard negatives: real South Korean and Japanese firms and people whose names share words,
acronyms or letters with the listed DPRK parties (Korea Development Bank, KOMIR, HMM,
Hana Bank, 한국조선해양, 朝鮮総連), with their country, and constructed traps that each test
one rule ("South Korea …", a listed word inside an unrelated name), marked "trap".

The labels follow from construction (the variant of a listed name is that name; the real
firms are not on the excerpt). Run: python tools/make_screening_corpus.py
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trilink.screening.lists import shipped_lists  # noqa: E402

# Hand-written forms: listed uid → names as Korean, Japanese or other sources spell them.
WRITTEN = {
    "900001": ["라자루스 그룹", "Lazarus", "Lazarus Grp", "ラザルス・グループ",
               "Hidden Cobra group", "Guardians of Peace (GOP)"],
    "900002": ["블루노로프", "Blue Noroff", "APT38", "BeagleBoyz group"],
    "900003": ["안다리엘", "Andariel group", "Silent Chollima team"],
    "900004": ["정찰총국", "조선인민군 정찰총국", "Reconnaissance General Bureau of the KPA",
               "Chongchal Chongguk", "Jeongchal Chongguk", "偵察総局", "RGB"],
    "900005": ["조선광업개발무역회사", "Korea Mining Development Trading Corp.",
               "KOMID", "Korea Mining Devt Trading Corp", "Changgwang Sinyong Corp",
               "Changkwang Shinyong Corporation", "External Technology General Corp"],
    "900006": ["Foreign Trade Bank of the DPRK", "Foreign Trade Bank of DPRK",
               "Mooyokbank", "Muyeok Bank", "Foreign Trade Bank (North Korea)"],
    "900007": ["조선련봉총회사", "Korea Ryonbong General Corp", "Korea Ryeonbong General Company",
               "Korea Yonbong General Corporation", "Lyongaksan General Trading Corp"],
    "900008": ["단천상업은행", "Tanchon Commercial Bank Ltd", "Danchon Commercial Bank",
               "Changgwang Credit Bank", "Korea Changgwang Credit Bank"],
    "900009": ["조선광선은행", "Korea Kwangson Banking Corporation", "Korea Gwangseon Banking Corp",
               "KKBC"],
    "900010": ["원양해운관리회사", "Ocean Maritime Management Co Ltd", "OMM",
               "Ocean Maritime Management Company"],
    "900012": ["김정은", "Kim Jong-un", "Kim Jong Un", "Gim Jeong-eun", "KIM JONG-UN",
               "金正恩", "キム・ジョンウン", "Kim Jung Un"],
}

# Real firms, bodies and people of South Korea and Japan (country alpha-2).
NEGATIVES = [
    ("Korea Development Bank", "KR"), ("한국산업은행", "KR"), ("KDB", "KR"),
    ("Korea Exchange Bank", "KR"), ("Industrial Bank of Korea", "KR"),
    ("Korea Trade Insurance Corporation", "KR"), ("K-SURE", "KR"),
    ("Korea Trade-Investment Promotion Agency", "KR"), ("KOTRA", "KR"),
    ("Korea Mine Rehabilitation and Mineral Resources Corporation", "KR"), ("KOMIR", "KR"),
    ("Korea National Oil Corporation", "KR"), ("한국석유공사", "KR"),
    ("Korea Electric Power Corporation", "KR"), ("한국전력공사", "KR"), ("KEPCO", "KR"),
    ("Korea Zinc", "KR"), ("고려아연", "KR"), ("Korea Gas Corporation", "KR"),
    ("Hana Bank", "KR"), ("하나은행", "KR"), ("Shinhan Bank", "KR"), ("신한은행", "KR"),
    ("Woori Bank", "KR"), ("우리은행", "KR"), ("KB Kookmin Bank", "KR"), ("국민은행", "KR"),
    ("NongHyup Bank", "KR"), ("Korea Ocean Business Corporation", "KR"),
    ("한국해양진흥공사", "KR"), ("Korea Shipbuilding & Offshore Engineering", "KR"),
    ("한국조선해양", "KR"), ("HD Korea Shipbuilding", "KR"), ("Hanwha Ocean", "KR"),
    ("HMM Co., Ltd.", "KR"), ("HMM", "KR"), ("Pan Ocean", "KR"), ("팬오션", "KR"),
    ("Korea Line Corporation", "KR"), ("Korea Marine Transport Co", "KR"),
    ("Samsung Electronics", "KR"), ("삼성전자", "KR"), ("SK hynix", "KR"),
    ("LG Chem", "KR"), ("LG화학", "KR"), ("POSCO", "KR"), ("Hyundai Motor Company", "KR"),
    ("현대자동차", "KR"), ("Kia Corporation", "KR"), ("Korea Aerospace Industries", "KR"),
    ("Korean Air", "KR"), ("대한항공", "KR"), ("Asiana Airlines", "KR"), ("Naver", "KR"),
    ("Kakao Bank", "KR"), ("Korea Investment & Securities", "KR"),
    ("Korea Southern Power", "KR"), ("Korea South-East Power", "KR"),
    ("Republic of Korea Navy", "KR"), ("Korea Coast Guard", "KR"),
    ("Korea Institute of Geoscience and Mineral Resources", "KR"),
    ("Chosun Ilbo", "KR"), ("조선일보", "KR"), ("Chosun University", "KR"),
    ("조선대학교", "KR"), ("Kim Jong-kook", "KR"), ("Kim Jung-eun", "KR"),
    ("Lee Jae-myung", "KR"), ("Kim Dae-jung Convention Center", "KR"),
    ("Korea Credit Guarantee Fund", "KR"),
    ("Korea Ocean Research & Development Institute", "KR"),
    ("Korea University", "KR"), ("한국무역협회", "KR"),
    ("Korea International Trade Association", "KR"),
    ("Mitsubishi Corporation", "JP"), ("三菱商事", "JP"), ("Sumitomo Chemical", "JP"),
    ("住友化学", "JP"), ("Stella Chemifa", "JP"), ("ステラケミファ", "JP"),
    ("Morita Chemical Industries", "JP"), ("森田化学工業", "JP"), ("JSR Corporation", "JP"),
    ("Tokyo Ohka Kogyo", "JP"), ("東京応化工業", "JP"), ("Shin-Etsu Chemical", "JP"),
    ("Resonac", "JP"), ("Ocean Network Express", "JP"),
    ("Mitsui O.S.K. Lines", "JP"), ("Nippon Yusen Kaisha", "JP"),
    ("General Association of Korean Residents in Japan", "JP"), ("朝鮮総連", "JP"),
]

# Constructed strings (no real party is meant) that each test one rule: country words,
# a listed word inside an unrelated name, a near spelling of a listed person's name.
# (김정운 is left out: romanised without diacritics it IS "Kim Jong Un", so flagging it for
# review is right, not a false alarm.)
TRAPS = [
    ("South Korea Trading Co", "KR"), ("South Korea Mining Development Trading", "KR"),
    ("Tancheon Environmental Services", "KR"), ("Ocean Maritime Logistics", "KR"),
    ("Blue Orange Trading", "KR"), ("Silent Hill Trading", "JP"), ("Red Dot Design", "KR"),
    ("Zinc Oxide Korea", "KR"), ("Group 7 Consulting", "KR"), ("Kim Jong-hoon", "KR"),
    ("Kim Yong-un", "KR"), ("Korea Mining Services", "KR"),
]


def _typo(rng: random.Random, text: str) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha() and c.isascii()]
    if len(letters) < 8:
        return text
    i = rng.choice(letters[2:-2])
    op = rng.randrange(3)
    if op == 0:
        return text[:i] + text[i + 1:]  # drop
    if op == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]  # swap
    return text[:i] + rng.choice("aeiou") + text[i + 1:]  # substitute


def rows() -> list[dict[str, str]]:
    rng = random.Random(20261202)
    out: list[dict[str, str]] = []
    for party in shipped_lists():
        for name in party.names:
            out.append({"query": name, "country": "", "uid": party.uid, "kind": "listed"})
            out.append({"query": name.title(), "country": "", "uid": party.uid,
                        "kind": "case"})
            if len(name.split()) >= 3:
                words = name.split()
                out.append({"query": " ".join(words[1:] + words[:1]), "country": "",
                            "uid": party.uid, "kind": "reordered"})
                out.append({"query": _typo(rng, name), "country": "", "uid": party.uid,
                            "kind": "typo"})
                out.append({"query": name + " Co., Ltd.", "country": "KP", "uid": party.uid,
                            "kind": "legal-form"})
        for name in WRITTEN.get(party.uid, []):
            out.append({"query": name, "country": "", "uid": party.uid, "kind": "written"})
    for kind, items in (("negative", NEGATIVES), ("trap", TRAPS)):
        for name, country in items:
            out.append({"query": name, "country": country, "uid": "", "kind": kind})
            out.append({"query": name, "country": "", "uid": "", "kind": f"{kind}-no-country"})
    seen, unique = set(), []
    for r in out:
        key = (r["query"], r["country"], r["uid"])
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def main() -> None:
    path = ROOT / "trilink" / "data" / "screening" / "corpus.csv"
    data = rows()
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("# Labelled screening corpus, made by tools/make_screening_corpus.py "
                "(see its docstring)\n")
        w = csv.DictWriter(f, fieldnames=["query", "country", "uid", "kind"])
        w.writeheader()
        w.writerows(data)
    pos = sum(1 for r in data if r["uid"])
    print(f"{path}: {len(data)} rows, {pos} positive, {len(data) - pos} negative")


if __name__ == "__main__":
    main()
