"""`micromall seed-demo`: a handful of Shanghai shops of one chain, a small catalog and stock at each."""
from __future__ import annotations

from sqlalchemy import func, select

from app.catalog.stock import set_quantity
from app.extensions import db
from app.models import Category, Product, Sku, Store
from app.stores.admin import create_store

# name, address, latitude, longitude (GCJ-02, as WeChat's wx.getLocation gives), phone, hours
DEMO_STORES = (
    ("静安寺店", "上海市静安区南京西路1618号", 31.2243, 121.4458, "021-62480001", "daily 00:00-24:00"),
    ("人民广场店", "上海市黄浦区南京东路800号", 31.2354, 121.4776, "021-63510002", "daily 08:00-22:00"),
    ("陆家嘴店", "上海市浦东新区世纪大道100号", 31.2366, 121.5023, "021-58870003",
     "mon-fri 07:30-22:00; sat,sun 09:00-23:00"),
    ("徐家汇店", "上海市徐汇区漕溪北路88号", 31.1937, 121.4365, "021-64870004", "daily 09:00-21:00"),
    ("五角场店", "上海市杨浦区淞沪路8号", 31.3008, 121.5142, "021-55660005", "daily 10:00-02:00"),
)

# category path, title, description, [(spec, price_fen)]
DEMO_PRODUCTS = (
    (("饮品", "咖啡"), "拿铁", "现磨咖啡与鲜牛奶", [("中杯 热", 2800), ("大杯 热", 3200), ("大杯 冰", 3200)]),
    (("饮品", "咖啡"), "美式咖啡", "双份浓缩", [("中杯", 2200), ("大杯", 2600)]),
    (("饮品", "茶饮"), "茉莉绿茶", "福建茉莉花茶", [("大杯 少糖", 1600), ("大杯 无糖", 1600)]),
    (("饮品", "茶饮"), "柠檬红茶", "锡兰红茶与新鲜柠檬", [("大杯", 1800)]),
    (("烘焙",), "可颂", "法式黄油可颂", [("原味", 1500), ("杏仁", 1800)]),
    (("烘焙",), "肉松面包", "每日现烤", [("单个", 1200)]),
    (("零食",), "坚果礼盒", "六种坚果", [("250g", 5900), ("500g", 9900)]),
    (("零食",), "海盐苏打饼干", "办公室常备", [("一盒", 990)]),
)


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Store))


def seed_demo() -> dict[str, int]:
    """Fill an empty database; the caller commits. Refuses a database that already has stores."""
    if not database_is_empty():
        raise ValueError("the database already has stores: seed-demo only fills an empty database")
    stores = [create_store(*row) for row in DEMO_STORES]
    categories: dict[tuple[str, ...], Category] = {}
    skus: list[Sku] = []
    for path, title, description, variants in DEMO_PRODUCTS:
        parent = None
        for depth in range(1, len(path) + 1):
            key = path[:depth]
            if key not in categories:
                categories[key] = Category(name=key[-1], parent_id=parent.id if parent else None,
                                           sort_order=len(categories))
                db.session.add(categories[key])
                db.session.flush()
            parent = categories[key]
        product = Product(category_id=parent.id, title=title, description=description)
        product.skus = [Sku(spec=spec, price_fen=price) for spec, price in variants]
        db.session.add(product)
        db.session.flush()
        skus.extend(product.skus)
    for store_index, store in enumerate(stores):
        for sku_index, sku in enumerate(skus):
            # Each store carries most of the catalog in its own quantities; a few lines are sold out.
            if (store_index + sku_index) % 7 == 6:
                continue
            set_quantity(store.id, sku.id, 0 if (store_index * 3 + sku_index) % 11 == 0 else 20 + 5 * sku_index)
    return {"stores": len(stores), "categories": len(categories), "products": len(DEMO_PRODUCTS),
            "skus": len(skus)}
