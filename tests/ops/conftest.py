import os

import pytest

from .install import Installation


def _name(worker_id: str, what: str) -> str:
    return f"{os.environ.get('ZTK_TEST_DB_NAME', 'test_ztk')}_{what}_{worker_id}"


@pytest.fixture(scope="session")
def prepared_installation(tmp_path_factory, worker_id):
    """Migrated, with the demo company, on the database the suite runs on: set up once per
    session (and xdist worker), then copied for each module that needs one."""
    install = Installation(tmp_path_factory.mktemp("template"), _name(worker_id, "tpl"))
    install.create()
    yield install
    install.destroy()


@pytest.fixture(scope="module")
def installation(prepared_installation, tmp_path_factory, worker_id, request):
    """An installation of the module's own: its own var/ (Huey queue) and database."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    install = prepared_installation.clone(tmp_path_factory.mktemp(module), _name(worker_id, module))
    yield install
    install.destroy()
