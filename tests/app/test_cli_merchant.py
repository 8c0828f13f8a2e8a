"""The shop owner's commands: demo data, stores, the catalog import (all rows or none), stock counts."""
from sqlalchemy import func, select

from app.extensions import db
from app.models import Category, Product, Sku, Store, StoreHours, StoreStock
from tests import factories


def invoke(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_seed_demo_fills_an_empty_database_only(app_ctx):
    result = invoke(app_ctx, "seed-demo")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count()).select_from(Store)) == 5
    all_day = db.session.scalar(select(Store).where(Store.name == "静安寺店"))
    assert [(h.open_min, h.close_min) for h in all_day.hours] == [(0, 1440)] * 7
    again = invoke(app_ctx, "seed-demo")
    assert again.exit_code != 0 and "only fills an empty database" in again.output
    assert db.session.scalar(select(func.count()).select_from(Store)) == 5


def test_store_create_prints_the_id_and_refuses_bad_hours(app_ctx):
    result = invoke(app_ctx, "store", "create", "--name", "新天地店", "--address", "上海市黄浦区马当路", "--lat", "31.219",
                    "--lng", "121.474", "--hours", "mon-fri 08:00-22:00; sat,sun 10:00-02:00")
    assert result.exit_code == 0, result.output
    store = db.session.get(Store, int(result.output.strip().splitlines()[-1]))
    assert store.name == "新天地店" and len(store.hours) == 7
    assert (store.hours[-1].weekday, store.hours[-1].open_min, store.hours[-1].close_min) == (6, 600, 120)
    for hours in ("someday 09:00-10:00", "mon 25:00-26:00", "fri-mon 09:00-10:00", "mon 09:00-09:00"):
        bad = invoke(app_ctx, "store", "create", "--name", "x", "--address", "x", "--lat", "31", "--lng", "121",
                     "--hours", hours)
        assert bad.exit_code != 0, hours
    assert db.session.scalar(select(func.count()).select_from(StoreHours)) == 7


def test_catalog_import_creates_updates_and_sets_stock(app_ctx, tmp_path):
    store_id = factories.store()
    csv_file = tmp_path / "catalog.csv"
    csv_file.write_text("category,title,spec,price_fen,store_id,stock\n"
                        f"饮品/咖啡,拿铁,中杯,2800,{store_id},12\n"
                        f"饮品/咖啡,拿铁,大杯,3200,{store_id},8\n"
                        "烘焙,可颂,原味,1500,,\n", encoding="utf-8")
    result = invoke(app_ctx, "catalog", "import", str(csv_file))
    assert result.exit_code == 0, result.output
    assert "Imported 3 rows." in result.output
    assert {c.name for c in db.session.scalars(select(Category))} == {"饮品", "咖啡", "烘焙"}
    latte = db.session.scalar(select(Product).where(Product.title == "拿铁"))
    assert sorted((s.spec, s.price_fen) for s in latte.skus) == [("中杯", 2800), ("大杯", 3200)]
    assert sorted(r.quantity for r in db.session.scalars(select(StoreStock))) == [8, 12]
    # a second import updates prices instead of duplicating
    csv_file.write_text("category,title,spec,price_fen\n饮品/咖啡,拿铁,中杯,2900\n", encoding="utf-8")
    assert invoke(app_ctx, "catalog", "import", str(csv_file)).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Sku)) == 3
    assert db.session.scalar(select(Sku.price_fen).where(Sku.spec == "中杯")) == 2900


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(app_ctx, tmp_path):
    csv_file = tmp_path / "catalog.csv"
    csv_file.write_text("category,title,spec,price_fen,store_id,stock\n"
                        "饮品,美式,中杯,2200,,\n"
                        "饮品,美式,大杯,twenty,,\n"
                        ",空分类,x,100,,\n"
                        "饮品,美式,超大杯,2600,99999,5\n"
                        "饮品,美式,小杯,-1,,\n", encoding="utf-8")
    result = invoke(app_ctx, "catalog", "import", str(csv_file))
    assert result.exit_code != 0
    for line in ("line 3: price_fen 'twenty'", "line 4: category, title and spec", "line 5: store 99999",
                 "line 6: price_fen must be"):
        assert line in result.output, line
    assert "nothing was imported" in result.output
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0
    assert db.session.scalar(select(func.count()).select_from(Category)) == 0
    missing = tmp_path / "missing.csv"
    missing.write_text("title,spec\nx,y\n", encoding="utf-8")
    assert "missing column(s) category, price_fen" in invoke(app_ctx, "catalog", "import", str(missing)).output


def test_stock_set(app_ctx):
    store_id = factories.store()
    made = factories.product(stock={store_id: 3})
    result = invoke(app_ctx, "stock", "set", "--store", str(store_id), "--sku", str(made.sku_ids[0]), "--quantity", "40")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(StoreStock, (store_id, made.sku_ids[0])).quantity == 40
    assert invoke(app_ctx, "stock", "set", "--store", "99999", "--sku", str(made.sku_ids[0]),
                  "--quantity", "1").exit_code != 0
    assert invoke(app_ctx, "stock", "set", "--store", str(store_id), "--sku", str(made.sku_ids[0]),
                  "--quantity", "-1").exit_code != 0
