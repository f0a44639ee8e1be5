import pytest

pytestmark = pytest.mark.django_db


def test_hr_hub(client, org):
    client.force_login(org.hr.user)
    r = client.get("/hr/")
    assert r.status_code == 200
    body = r.content.decode()
    assert "/attendance/lookup/" in body and "/hr/devices/" in body
    client.force_login(org.employee.user)
    assert client.get("/hr/").status_code == 403
