from __future__ import annotations

import csv
import io

from redeem.models import Redemption, RedemptionStatus
from tests.console.conftest import csrf_client, csrf_token_from


def test_common_users_cannot_manage_codes(as_alice):
    assert as_alice.get("/redemption").status_code == 403
    assert as_alice.post("/redemption/new", {"name": "x", "quota": "1", "count": "1"}).status_code == 403
    assert as_alice.get("/redemption/export.csv").status_code == 403


def test_batch_generation_shows_the_new_codes(as_admin):
    response = as_admin.post("/redemption/new", {"name": "launch", "quota": "500000", "count": "3"})
    keys = response.context["new_keys"]
    assert len(keys) == 3 and Redemption.objects.filter(name="launch", quota=500000).count() == 3
    assert all(key in response.content.decode() for key in keys)


def test_count_is_limited_to_100_with_the_error_on_the_field(as_admin):
    page = as_admin.post("/redemption/new", {"name": "big", "quota": "1", "count": "101"}).content.decode()
    assert "less than or equal to 100" in page.split('id="field-count"')[1].split("</div>")[0]
    assert not Redemption.objects.exists()


def test_csv_export_lists_unused_codes_and_defuses_formulas(as_admin):
    Redemption.objects.create(key="k1" * 16, name="=HYPERLINK(1)", quota=5)
    Redemption.objects.create(key="k2" * 16, name="used", quota=5, status=RedemptionStatus.USED)
    response = as_admin.get("/redemption/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert [row[2] for row in rows[1:]] == ["k1" * 16]
    assert rows[1][1] == "'=HYPERLINK(1)"
    assert (
        len(list(csv.reader(io.StringIO(as_admin.get("/redemption/export.csv?all=1").content.decode())))) == 3
    )


def test_disable_enable_and_delete(as_admin):
    code = Redemption.objects.create(key="z" * 32, name="n", quota=5)
    as_admin.post(f"/redemption/{code.pk}/status", {"enable": "0"})
    assert Redemption.objects.get(pk=code.pk).status == RedemptionStatus.DISABLED
    as_admin.post(f"/redemption/{code.pk}/status", {"enable": "1"})
    assert Redemption.objects.get(pk=code.pk).status == RedemptionStatus.ENABLED
    as_admin.post(f"/redemption/{code.pk}/delete")
    assert not Redemption.objects.exists()


def test_generation_requires_the_csrf_token(admin):
    client = csrf_client(admin)
    data = {"name": "n", "quota": "1", "count": "1"}
    assert client.post("/redemption/new", data).status_code == 403
    token = csrf_token_from(client, "/redemption")
    assert client.post("/redemption/new", {**data, "csrfmiddlewaretoken": token}).status_code == 200
    assert Redemption.objects.count() == 1
