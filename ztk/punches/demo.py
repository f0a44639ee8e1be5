"""The demo's punch area: a circle around the demo office that the demo group uses, so a
web or phone punch in the demo is checked against it (`ztk demo` loads it)."""

from __future__ import annotations

from .geofence_services import FenceInput, geofence_put
from .models import Geofence

# 示例科技有限公司's office (People's Square, Shanghai) and a radius that suits a building
# whose phones are 20–50 m off indoors.
OFFICE_CODE = "HQ"
OFFICE = FenceInput(
    name="示例科技 总部",
    latitude=31.2304,
    longitude=121.4737,
    radius_m=300,
    active=True,
    group_codes=("STD",),
)


def load_geofence_demo() -> Geofence:
    """Idempotent (the service writes nothing when the fence is already as described)."""
    fence, _created = geofence_put(actor=None, code=OFFICE_CODE, data=OFFICE)
    return fence
