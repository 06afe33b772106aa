"""A generated bilingual corpus of records, and search queries whose expected hits are known.

The expected hits come from an oracle that knows nothing of the index: plain substring search
over each record's searchable values (for English words, a list of the word's forms). Used by
tests/index/test_recall.py and by bench/run.py (which scales it to 100,000 records).
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata

CUSTOMERS_ZH = ["华东电力设备有限公司", "华南精密机械有限公司", "苏州明辉电子科技有限公司",
                "宁波海天塑料制品有限公司", "深圳市鑫达通讯器材有限公司", "北京中科仪器有限公司",
                "上海浦江化工有限公司", "青岛海蓝食品有限公司", "杭州天成纺织有限公司",
                "成都蜀光照明有限公司"]
CUSTOMERS_EN = ["Pacific Marine Supply Pte Ltd", "Nordic Tools AB", "Sunrise Electronics Inc."]
PRODUCTS = ["防静电服", "控制板组件", "不锈钢法兰", "铝合金外壳", "电源适配器", "塑料托盘",
            "LED 灯条", "硅胶密封圈"]
PARTS = ["PCB-4451-A", "SS-FL-200", "AL-CASE-07", "PA-12V-2A", "TR-1200", "LED-5050-W",
         "SR-3342"]
DEFECTS_ZH = ["包装破损", "数量短缺", "表面划伤", "尺寸超差", "焊点虚焊", "颜色不符",
              "法兰生锈", "标签错误", "功能失效", "螺丝缺失"]
DEFECTS_EN = ["cartons damaged in transit", "several housings arrived scratched",
              "labels printed with the wrong batch", "flanges show corrosion after storage",
              "screws missing from the accessory bag"]
CAUSES = ["运输途中堆码过高导致挤压", "来料检验漏检", "作业员未按作业指导书操作",
          "供应商更换原材料未通知", "模具磨损未及时更换"]
COUNTERMEASURES = ["加强包装，增加护角", "增加出货全检工序", "对作业员重新培训",
                   "要求供应商提交变更申请", "建立模具保养计划"]
# Sensitive values: used nowhere else, so finding them in the index would be a leak.
CONTACTS = ["欧阳秀英", "司马俊杰", "诸葛明远", "上官婉清", "东方宏图"]


def phone(rng: random.Random) -> str:
    return f"139 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


# An archive's vocabulary grows with it: for the 100,000-record benchmark, thousands of
# customers, products and part numbers instead of the test corpus's handful.
CITIES = ["华东", "华南", "苏州", "宁波", "深圳", "北京", "上海", "青岛", "杭州", "成都", "武汉",
          "天津", "重庆", "厦门", "无锡", "佛山", "东莞", "合肥", "长沙", "郑州"]
CORES = ["电力", "精密", "明辉", "海天", "鑫达", "中科", "浦江", "海蓝", "天成", "蜀光", "恒通",
         "宏达", "金桥", "永信", "博远", "瑞丰", "联华", "新星", "华泰", "盛世"]
TRADES = ["设备", "机械", "电子科技", "塑料制品", "通讯器材", "仪器", "化工", "食品", "纺织",
          "照明"]
MATERIALS = ["不锈钢", "铝合金", "硅胶", "尼龙", "铜质", "陶瓷", "碳纤维", "镀锌", "钛合金",
             "亚克力"]
ITEMS = ["法兰", "外壳", "密封圈", "托盘", "支架", "垫片", "轴套", "端盖", "接头", "面板", "齿轮",
         "滤网"]


SMALL = {"customers": CUSTOMERS_ZH, "products": PRODUCTS, "parts": PARTS}


def wide_pools(rng: random.Random) -> dict:
    return {
        "customers": [f"{c}{k}{t}有限公司" for c in CITIES for k in CORES for t in TRADES],
        "products": [f"{m}{i}" + (f" {n}型" if n else "") for m in MATERIALS for i in ITEMS
                     for n in range(8)],
        "parts": sorted({f"{rng.choice(['PCB', 'SS', 'AL', 'PA', 'TR', 'SR', 'HX'])}-"
                         f"{rng.randint(1000, 9999)}-{rng.choice('ABCDEW')}"
                         for _ in range(5000)}),
    }


def generate(complaints: int = 140, contracts: int = 40, properties: int = 30,
             seed: int = 4451, wide: bool = False):
    """(form id, data) of every record, in a fixed random order. `wide`: the vocabulary of a
    large archive (wide_pools) instead of the test corpus's small pools."""
    rng = random.Random(seed)
    pools = wide_pools(rng) if wide else SMALL
    records = []
    for i in range(complaints):
        records.append(("complaint", complaint(rng, i, pools)))
    for i in range(contracts):
        records.append(("contract_review", contract(rng, i, pools)))
    for i in range(properties):
        records.append(("customer_property", customer_property(rng, i, pools)))
    rng.shuffle(records)
    return records


def _customer(rng: random.Random, pools: dict) -> str:
    return rng.choice(CUSTOMERS_EN) if rng.random() < 0.15 else rng.choice(pools["customers"])


def _date(rng: random.Random, start="2026-01-01", days=320) -> str:
    return (dt.date.fromisoformat(start) + dt.timedelta(days=rng.randrange(days))).isoformat()


def complaint(rng: random.Random, i: int, pools: dict) -> dict:
    english = rng.random() < 0.25
    defect = rng.choice(DEFECTS_EN if english else DEFECTS_ZH)
    data = {
        "received_date": _date(rng), "market": rng.choice(["domestic", "foreign"]),
        "customer": _customer(rng, pools), "customer_contact": rng.choice(CONTACTS),
        "customer_phone": phone(rng), "order_no": f"PO-2026-{1000 + i:04d}",
        "part_no": rng.choice(pools["parts"]), "product": rng.choice(pools["products"]),
        "quantity": rng.randint(10, 5000), "category": "quality",
        "description": (f"Customer reports {defect}." if english
                        else f"客户反映到货{defect}，涉及 {rng.randint(2, 90)} 件。"),
    }
    if rng.random() < 0.5:
        data["cause_analysis"] = rng.choice(CAUSES)
        data["countermeasure"] = rng.choice(COUNTERMEASURES)
    return data


def contract(rng: random.Random, i: int, pools: dict) -> dict:
    return {
        "customer": _customer(rng, pools), "customer_contact": rng.choice(CONTACTS),
        "customer_phone": phone(rng), "contract_no": f"SO-2026-{2000 + i:04d}",
        "order_type": rng.choice(["written", "tender", "online"]),
        "product": rng.choice(pools["products"]), "quantity": rng.randint(100, 9000),
        "unit": "件", "unit_price": f"{rng.randint(5, 900)}.50", "currency": "CNY",
        "delivery_date": _date(rng, "2026-12-01", 90),
        "customer_requirements": f"{rng.choice(pools['products'])}须随货附出厂检验报告，料号 "
                                 f"{rng.choice(pools['parts'])}。",
    }


def customer_property(rng: random.Random, i: int, pools: dict) -> dict:
    return {
        "customer": _customer(rng, pools), "contract_no": f"CP-SO-{3000 + i:04d}",
        "owner_contact": rng.choice(CONTACTS), "received_date": _date(rng),
        "items": [{"item_no": n + 1, "name": rng.choice(["铜板", "冲压模具", "检具", "图纸"]),
                   "category": "material", "quantity": rng.randint(1, 50), "unit": "件",
                   "condition": rng.choice(["完好", "轻微锈蚀", "外箱破损"])}
                  for n in range(rng.randint(1, 3))],
        "inspection_remarks": rng.choice(["外观完好", "包装破损，已拍照告知客户",
                                          "数量短缺 2 件"]),
    }


# -- the oracle ------------------------------------------------------------------------------


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def searchable(form, data: dict) -> list[str]:
    """A record's searchable values as a reader sees them: text, long text and choice values
    (as printed) and table cells; never sensitive fields, numbers, dates or yes/no."""
    values = []
    for field in form.fields:
        value = data.get(field.id)
        if field.sensitive or value in (None, ""):
            continue
        if field.type in ("text", "longtext", "choice"):
            values.append(fold(field.display(value)))
        elif field.type == "table":
            values += [fold(column.display(row[column.id])) for row in value
                       for column in field.columns if row.get(column.id) is not None]
    return values


ENGLISH = {  # query word -> the forms a reader counts as the same word
    "damage": ["damage", "damaged", "damages"],
    "scratches": ["scratch", "scratched", "scratches"],
    "label": ["label", "labels", "labelled"],
    "printing": ["print", "printed", "printing"],
    "corrosion": ["corrosion"],
    "missing": ["missing"],
    "pacific": ["pacific"],
    "nordic": ["nordic"],
}


def queries(numbers: list[str], pools: dict = SMALL) -> list[tuple[str, object]]:
    """(query, matcher): matcher(number, values) says whether a record is expected. With the
    wide pools, the customers, products and parts asked for are a sample of them."""
    rng = random.Random(len(numbers))
    customers, products, parts = (pools[k] if pools is SMALL else rng.sample(pools[k], 10)
                                  for k in ("customers", "products", "parts"))
    found = []
    substrings = ([c[:2] for c in customers] + [c[2:6] for c in customers[1:4]]
                  + products[:6] + DEFECTS_ZH + ["运输途中", "重新培训", "外箱破损", "轻微锈蚀"]
                  + parts[:7] + [parts[0].split("-")[1], "PO-2026-1005", "SO-2026-2003"])
    for text in substrings:
        found.append((text, _contains(fold(text))))
    for code in parts[:5]:  # typed without the dashes
        found.append((code.replace("-", ""), _contains(fold(code))))
    for word, forms in ENGLISH.items():
        pattern = re.compile(r"\b(" + "|".join(forms) + r")\b")
        found.append((word, lambda number, values, p=pattern: any(p.search(v)
                                                                   for v in values)))
    for number in numbers[:6]:
        def exact(n, values, want=number):
            return n == want
        found += [(number, exact), (number.replace("-", ""), exact)]
    prefix = numbers[0].rsplit("-", 1)[0]
    found.append((prefix, lambda n, values, p=prefix + "-": n.startswith(p)))
    return found


def _contains(needle: str):
    return lambda number, values: any(needle in value for value in values)
