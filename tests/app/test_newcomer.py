"""A newcomer's first hour: CLI catalog changes show at once in a running dev server, a GBK CSV and numbers past the
column range get a clear answer, and ids past the integer range in a path answer 404 instead of 500."""
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Product, StoreStock
from app.models.types import MAX_INT
from tests import factories
from tests.conftest import sqlite_only


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


@sqlite_only
def test_a_catalog_import_from_another_process_shows_at_once_without_redis(app, client, instance_dir, tmp_path):
    with app.app_context():
        store_id = factories.store()
        factories.product(title="拿铁", stock={store_id: 5})
    assert [p["title"] for p in client.get(f"/api/v1/stores/{store_id}/products").get_json()["items"]] == ["拿铁"]

    csv_file = tmp_path / "more.csv"
    csv_file.write_text(f"category,title,spec,price_fen,store_id,stock\n烘焙,可颂,原味,1500,{store_id},3\n", "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICROMALL_", "DATABASE_", "REDIS_", "WECHAT"))}
    env.update(MICROMALL_INSTANCE_PATH=instance_dir, DATABASE_URL=app.config["DATABASE_URL"])
    result = subprocess.run([sys.executable, "-c", "from app.cli import main; main()", "catalog", "import",
                             str(csv_file)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr

    titles = {p["title"] for p in client.get(f"/api/v1/stores/{store_id}/products").get_json()["items"]}
    assert titles == {"拿铁", "可颂"}  # not after the page cache's 60 s


def test_a_gbk_csv_is_imported(app_ctx, tmp_path):
    store_id = factories.store()
    csv_file = tmp_path / "excel.csv"
    csv_file.write_bytes(f"category,title,spec,price_fen,store_id,stock\n饮品/茶,乌龙茶,大杯,1800,{store_id},4\n"
                         .encode("gbk"))
    result = invoke(app_ctx, "catalog", "import", str(csv_file))
    assert result.exit_code == 0, result.output
    assert "as GBK" in result.output and "Imported 1 rows." in result.output
    assert db.session.scalar(select(Product.title)) == "乌龙茶"


def test_a_file_in_neither_encoding_is_refused_with_a_clear_message(app_ctx, tmp_path):
    csv_file = tmp_path / "binary.csv"
    csv_file.write_bytes(b"category,title,spec,price_fen\n\xff\xfe\xff,x,y,1\n")
    result = invoke(app_ctx, "catalog", "import", str(csv_file))
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert "neither UTF-8 nor GBK" in result.output
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_numbers_past_the_column_range_are_reported_by_line(app_ctx, tmp_path):
    store_id = factories.store()
    csv_file = tmp_path / "big.csv"
    csv_file.write_text("category,title,spec,price_fen,store_id,stock\n"
                        f"饮品,拿铁,中杯,{MAX_INT + 1},{store_id},1\n"
                        f"饮品,拿铁,大杯,100,{store_id},99999999999999999999\n"
                        "饮品,拿铁,小杯,100,99999999999999999999,1\n", "utf-8")
    result = invoke(app_ctx, "catalog", "import", str(csv_file))
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit), result.output
    for line, name in ((2, "price_fen"), (3, "stock"), (4, "store_id")):
        assert f"line {line}: {name}" in result.output and "out of range" in result.output
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


@pytest.mark.parametrize("option, value", [("--quantity", str(MAX_INT + 1)), ("--store", "9" * 30),
                                           ("--sku", "9" * 30)])
def test_stock_set_refuses_numbers_past_the_column_range(app_ctx, option, value):
    store_id = factories.store()
    sku_id = factories.product().sku_ids[0]
    args = {"--store": str(store_id), "--sku": str(sku_id), "--quantity": "1", option: value}
    result = invoke(app_ctx, "stock", "set", *[x for pair in args.items() for x in pair])
    assert result.exit_code == 2, result.output  # click's usage error, naming the option; no traceback
    assert option in result.output and "range" in result.output
    assert db.session.scalar(select(func.count()).select_from(StoreStock)) == 0


@pytest.mark.parametrize("path", ["/api/v1/stores/99999999999999999999", "/api/v1/stores/2147483648/products",
                                  "/api/v1/products/18446744073709551616?store_id=1"])
def test_ids_past_the_integer_range_in_a_path_answer_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_an_id_past_the_range_in_a_cart_path_answers_404(client):
    headers = factories.login(client)
    response = client.delete(f"/api/v1/cart/items/{10**25}?store_id=1", headers=headers)
    assert response.status_code == 404
