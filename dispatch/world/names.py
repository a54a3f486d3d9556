"""Deterministic romanised Chinese names for people, customers, sites and streets."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# Common surnames, most common first; weights fall off like real frequencies do.
SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou",
    "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao",
    "Liang", "Zheng", "Xie", "Song", "Tang", "Feng", "Deng", "Han", "Cao", "Peng",
    "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai", "Jiang", "Yu", "Du",
    "Ye", "Cheng", "Wei", "Su", "Lu", "Ding", "Ren", "Shen", "Yao", "Zhong",
)  # fmt: skip

GIVEN_NAMES = (
    "Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Jun", "Yang", "Yong",
    "Jie", "Tao", "Ming", "Chao", "Hui", "Hua", "Ping", "Gang", "Bin", "Hong",
    "Jianguo", "Zhiqiang", "Xiaoming", "Haitao", "Jianhua", "Guoqiang", "Dongmei",
    "Xiaoyan", "Lihua", "Haiyan", "Zhiwei", "Jianjun", "Wenjie", "Yuming", "Zihan",
    "Haoran", "Yuxuan", "Jiahao", "Shuang", "Kai", "Peng", "Xin", "Rui", "Long",
    "Zhenyu", "Weidong", "Jinlong", "Xiaodong", "Qiuyue", "Chunyan", "Shaohua",
    "Guanghui", "Zhihao", "Jiawei", "Wenbin", "Yifan", "Bo", "Liang", "Feng", "Xiaolin",
)  # fmt: skip

TRADE_NAMES = (
    "Huaxin", "Jinlong", "Tianhe", "Hengtai", "Xinda", "Yuanhang", "Zhongcheng", "Baoli",
    "Dahua", "Meida", "Hongxing", "Changxing", "Guangda", "Fuhua", "Ruifeng", "Jiahe",
    "Kaixuan", "Yuehai", "Nanfang", "Lingnan", "Pengcheng", "Zhujiang", "Xinghe", "Anda",
    "Shengshi", "Tongda", "Haoyun", "Minsheng", "Wanjia", "Jinhui", "Hongfa", "Yongfu",
)  # fmt: skip

INDUSTRIES = (
    "Logistics", "Electronics", "Property Management", "Hospital", "Supermarkets",
    "Manufacturing", "Hotels", "Education Group", "Water Supply", "Bus Company",
    "Commercial Bank", "Pharmaceuticals", "Data Services", "Textiles", "Ceramics",
    "Port Services", "Real Estate", "Cold Chain", "Furniture", "Auto Parts",
)  # fmt: skip

FACILITIES = (
    "head office", "plant", "warehouse", "store", "data room", "campus", "branch",
    "distribution centre", "workshop", "office tower", "depot", "clinic",
)  # fmt: skip

ROADS = (
    "Zhongshan", "Renmin", "Jiefang", "Jianshe", "Xinhua", "Binhai", "Gongye", "Keji",
    "Chaoyang", "Wenhua", "Heping", "Yingbin", "Huancheng", "Dongfeng", "Nanhua", "Beijing",
)  # fmt: skip


def _zipf(count: int, exponent: float = 0.8) -> npt.NDArray[np.float64]:
    weights = np.power(np.arange(1, count + 1, dtype=np.float64), -exponent)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def person_names(count: int, rng: np.random.Generator) -> list[str]:
    """`count` names as "Surname Given", surnames drawn by a Zipf-like frequency."""
    surnames = rng.choice(len(SURNAMES), size=count, p=_zipf(len(SURNAMES))).tolist()
    given = rng.integers(0, len(GIVEN_NAMES), size=count).tolist()
    return [f"{SURNAMES[s]} {GIVEN_NAMES[g]}" for s, g in zip(surnames, given, strict=True)]


def company_names(cities: list[str], rng: np.random.Generator) -> list[tuple[str, str]]:
    """(full name, short name) per customer, e.g. ("Foshan Hengtai Ceramics Co., Ltd.", ...)."""
    trade = rng.integers(0, len(TRADE_NAMES), size=len(cities)).tolist()
    industry = rng.integers(0, len(INDUSTRIES), size=len(cities)).tolist()
    names = []
    for city, t, i in zip(cities, trade, industry, strict=True):
        short = f"{TRADE_NAMES[t]} {INDUSTRIES[i]}"
        names.append((f"{city} {short} Co., Ltd.", short))
    return names


def site_labels(count: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    """A facility kind and a street address stem ("No. 88 Renmin Road") per site."""
    facility = rng.integers(0, len(FACILITIES), size=count).tolist()
    road = rng.integers(0, len(ROADS), size=count).tolist()
    number = rng.integers(1, 1000, size=count).tolist()
    return (
        [FACILITIES[f] for f in facility],
        [f"No. {n} {ROADS[r]} Road" for n, r in zip(number, road, strict=True)],
    )
