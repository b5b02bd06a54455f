"""The plugin host, tested with throwaway in-process plugins and fake entry points."""

from __future__ import annotations

import importlib.metadata as im
import inspect
import subprocess
import sys
import threading
import types

import pytest

from datajoint import hookimpl, hookspecs
from datajoint.errors import PluginError
from datajoint.plugin_host import PluginHost


def plugin_module(name: str, **hooks) -> types.ModuleType:
    """A throwaway module carrying the given hook implementations."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        function.__name__ = hook_name
        setattr(module, hook_name, hookimpl(function))
    return module


def fake_entry_points(monkeypatch, entries: list[tuple[str, str, str]]) -> None:
    """Make importlib.metadata list only ``entries`` (group, name, value)."""
    points = [im.EntryPoint(name=n, value=v, group=g) for g, n, v in entries]

    def entry_points(group=None):
        return [p for p in points if p.group == group]

    monkeypatch.setattr(im, "entry_points", entry_points)


def registering(kind_hook: str, *names: str, target: object = "json:dumps", **kw):
    def hook(register):
        for name in names:
            register(name, target, **kw)

    return {kind_hook: hook}


# ---- one test per hook spec (the meta-test below requires it) -------------------------------
def test_hook_dj_register_backends():
    host = PluginHost(use_entry_points=False)
    host.add_plugin(
        plugin_module("p", **registering("dj_register_backends", "mydb", aliases=("md",))),
        distribution="my-dist",
        version="1.2",
    )
    reg = host.registration("backend", "md")
    assert (reg.name, reg.distribution, reg.version) == ("mydb", "my-dist", "1.2")
    assert host.get("backend", "mydb") is __import__("json").dumps


def test_hook_dj_register_codecs():
    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("p", **registering("dj_register_codecs", "mycodec")))
    assert "mycodec" in host.names("codec")


def test_hook_dj_register_storage_protocols():
    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("p", **registering("dj_register_storage_protocols", "myproto")))
    assert host.names("storage_protocol") == ["myproto"]


def test_hook_dj_register_fetch_formats():
    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("p", **registering("dj_register_fetch_formats", "myformat")))
    assert "myformat" in host.names("fetch_format")


def test_hook_dj_register_storage_services():
    host = PluginHost(use_entry_points=False)
    host.add_plugin(
        plugin_module("p", **registering("dj_register_storage_services", "StorageBackend"))
    )
    assert host.names("storage_service") == ["StorageBackend"]
    assert [s["name"] for s in host.listing()["storage_services"]] == ["StorageBackend"]


def test_every_hook_spec_has_a_docstring_and_a_test():
    specs = [
        name
        for name, obj in vars(hookspecs).items()
        if inspect.isfunction(obj) and name.startswith("dj_")
    ]
    assert specs
    tests = set(globals())
    for name in specs:
        assert inspect.getdoc(getattr(hookspecs, name)), f"hook spec {name} has no docstring"
        assert f"test_hook_{name}" in tests, f"hook spec {name} has no test_hook_{name}"


# ---- behaviour -------------------------------------------------------------------------------
def test_lazy_reference_is_imported_on_first_use_only():
    host = PluginHost(use_entry_points=False)
    host.add_plugin(
        plugin_module("p", **registering("dj_register_backends", "late", target="no_such_mod:x"))
    )
    assert host.names("backend") == ["late"]  # registering did not import anything
    with pytest.raises(PluginError, match="could not be loaded") as info:
        host.get("backend", "late")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_two_providers_of_one_name_are_refused(monkeypatch):
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)
    host = PluginHost(use_entry_points=False)
    host.add_plugin(
        plugin_module("a", **registering("dj_register_backends", "dup")), distribution="dist-a"
    )
    host.add_plugin(
        plugin_module("b", **registering("dj_register_backends", "dup", target="json:loads")),
        distribution="dist-b",
    )
    with pytest.raises(PluginError, match=r"dist-a.*dist-b"):
        host.get("backend", "dup")
    assert any("dup" in b["name"] for b in host.listing()["broken"])


def test_two_providers_fail_at_load_in_strict_mode(monkeypatch):
    monkeypatch.setenv("DJ_STRICT_PLUGINS", "1")
    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("a", **registering("dj_register_codecs", "dup")))
    host.add_plugin(
        plugin_module("b", **registering("dj_register_codecs", "dup", target="json:loads"))
    )
    with pytest.raises(PluginError, match="Two plugins provide"):
        host.load()


def test_broken_entry_point_is_recorded_and_raised_when_used(monkeypatch):
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)
    fake_entry_points(monkeypatch, [("datajoint.plugins", "oracle", "no_such_plugin_module")])
    host = PluginHost()
    host.load()
    broken = host.listing()["broken"]
    assert [b["name"] for b in broken] == ["oracle"]
    assert "ModuleNotFoundError" in broken[0]["error"]
    with pytest.raises(PluginError, match="failed to load") as info:
        host.get("backend", "oracle")
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_broken_entry_point_fails_at_load_in_strict_mode(monkeypatch):
    monkeypatch.setenv("DJ_STRICT_PLUGINS", "1")
    fake_entry_points(monkeypatch, [("datajoint.plugins", "oracle", "no_such_plugin_module")])
    with pytest.raises(PluginError, match="oracle"):
        PluginHost().load()


def test_hook_that_raises_is_recorded(monkeypatch):
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)

    def dj_register_backends(register):
        raise RuntimeError("boom")

    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("bad", dj_register_backends=dj_register_backends), name="bad")
    host.load()
    assert "boom" in host.listing()["broken"][0]["error"]


def test_missing_backend_names_the_install_command():
    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("p", **registering("dj_register_backends", "sqlite", "mysql")))
    with pytest.raises(PluginError) as info:
        host.get("backend", "postgresql")
    message = str(info.value)
    assert 'pip install "dj-kernel[postgres]"' in message
    assert "Installed: mysql, sqlite." in message


def test_compatibility_entry_point_groups(monkeypatch):
    fake_entry_points(
        monkeypatch,
        [
            ("datajoint.codecs", "lab_codec", "json:JSONDecoder"),
            ("datajoint.types", "old_codec", "json:JSONEncoder"),
            ("datajoint.storage", "ftp", "json:JSONDecodeError"),
        ],
    )
    host = PluginHost()
    assert host.names("codec") == ["lab_codec", "old_codec"]
    assert host.get("storage_protocol", "ftp") is __import__("json").JSONDecodeError


def test_allow_and_block_lists(monkeypatch):
    entries = [
        ("datajoint.codecs", "keep", "json:JSONDecoder"),
        ("datajoint.codecs", "drop", "json:JSONEncoder"),
    ]
    fake_entry_points(monkeypatch, entries)
    monkeypatch.setenv("DJ_DISABLE_PLUGINS", "drop")
    assert PluginHost().names("codec") == ["keep"]
    monkeypatch.delenv("DJ_DISABLE_PLUGINS")
    monkeypatch.setenv("DJ_LOAD_PLUGINS", "drop")
    assert PluginHost().names("codec") == ["drop"]


def test_trace_writes_each_load(monkeypatch, capsys):
    fake_entry_points(monkeypatch, [("datajoint.codecs", "traced", "json:JSONDecoder")])
    monkeypatch.setenv("DJ_TRACE_PLUGINS", "1")
    PluginHost().load()
    err = capsys.readouterr().err
    assert "loading datajoint.codecs entry 'traced'" in err
    assert "registered codec 'traced'" in err


def test_loading_is_once_and_thread_safe():
    calls = []

    def dj_register_backends(register):
        calls.append(1)
        register("once", "json:dumps")

    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("p", dj_register_backends=dj_register_backends))
    threads = [threading.Thread(target=host.load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    host.load()
    assert calls == [1]


def test_installed_backends_are_listed_with_provenance():
    import datajoint as dj

    backends = {b["name"]: b for b in dj.plugins()["backends"]}
    for name, dist in [
        ("sqlite", "dj-backend-sqlite"),
        ("mysql", "dj-backend-mysql"),
        ("postgresql", "dj-backend-postgres"),
    ]:
        assert backends[name]["distribution"] == dist
        assert backends[name]["version"]


def test_blocked_backend_gives_install_hint(monkeypatch):
    monkeypatch.setenv("DJ_DISABLE_PLUGINS", "postgresql")
    with pytest.raises(PluginError, match=r'pip install "dj-kernel\[postgres\]"'):
        PluginHost().get("backend", "postgresql")


def test_import_datajoint_survives_a_broken_plugin(tmp_path):
    """A real broken distribution on sys.path: import works, using it raises the cause."""
    dist = tmp_path / "broken_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[datajoint.plugins]\nbrokenbackend = broken_plugin_mod\n"
    )
    (tmp_path / "broken_plugin_mod.py").write_text("raise ImportError('this plugin is broken')\n")
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import datajoint as dj\n"
        "from datajoint.connection import get_backend\n"
        "broken = [b for b in dj.plugins()['broken'] if b['name'] == 'brokenbackend']\n"
        "assert broken and 'this plugin is broken' in broken[0]['error'], broken\n"
        "try:\n    get_backend('brokenbackend')\nexcept dj.DataJointError as e:\n"
        "    assert isinstance(e.__cause__, ImportError); print('ok')\n"
    ).replace("%r", repr(str(tmp_path)))
    env = {k: v for k, v in __import__("os").environ.items() if k != "DJ_STRICT_PLUGINS"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.stdout.strip() == "ok", result.stderr


# ---- extension hook specs, the unknown-hook check, blame ---------------------------------------
class GreetingSpecs:
    """An extension package's hook specs (the kernel knows nothing of them)."""

    @hookspecs.hookspec
    def ext_greet(self, greetings: list) -> None:
        """Append a greeting."""


def test_hook_dj_add_hookspecs(monkeypatch):
    monkeypatch.setenv("DJ_STRICT_PLUGINS", "1")

    def ext_greet(greetings):
        greetings.append("hello")

    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("ext", dj_add_hookspecs=lambda add: add(GreetingSpecs)))
    host.add_plugin(plugin_module("user", ext_greet=ext_greet), distribution="dist-user")
    greetings: list[str] = []
    host.run_hook("ext_greet", greetings=greetings)  # no unknown-hook error in strict mode
    assert greetings == ["hello"]
    host.add_hookspecs(GreetingSpecs)  # adding the same specs again does nothing


def test_run_hook_records_a_plugin_whose_hook_raises(monkeypatch):
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)

    def bad(greetings):
        raise RuntimeError("no greeting today")

    def good(greetings):
        greetings.append("hi")

    host = PluginHost(use_entry_points=False)
    host.add_hookspecs(GreetingSpecs)
    host.add_plugin(plugin_module("bad", ext_greet=bad), distribution="dist-bad")
    host.add_plugin(plugin_module("good", ext_greet=good))
    greetings: list[str] = []
    assert host.run_hook("ext_greet", greetings=greetings) == [None]
    assert greetings == ["hi"]
    [broken] = host.broken_plugins()
    assert (broken.name, broken.distribution) == ("bad", "dist-bad")
    monkeypatch.setenv("DJ_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="no greeting today"):
        host.run_hook("ext_greet", greetings=[])


def test_run_hook_per_plugin_arguments_carry_provenance():
    def greet(greetings):
        greetings.append("hello")

    host = PluginHost(use_entry_points=False)
    host.add_hookspecs(GreetingSpecs)
    host.add_plugin(plugin_module("a", ext_greet=greet), distribution="dist-a", version="1.0")
    host.add_plugin(plugin_module("b", ext_greet=greet))
    seen: dict[str, list[str]] = {}
    host.run_hook(
        "ext_greet",
        per_plugin=lambda source: {
            "greetings": seen.setdefault(
                f"{source.name} {source.distribution} {source.version}", []
            )
        },
    )
    assert seen == {"a dist-a 1.0": ["hello"], "b (in-process) ": ["hello"]}


def test_run_hook_needs_a_hook_spec():
    with pytest.raises(PluginError, match="no hook spec named 'ext_nothing'"):
        PluginHost(use_entry_points=False).run_hook("ext_nothing")


def test_a_misspelt_hook_name_is_reported(monkeypatch):
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)
    misspelt = registering("dj_register_codec", "typo")  # dj_register_codecs without the "s"
    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("typo_mod", **misspelt), name="typo", distribution="dist-typo")
    [broken] = host.listing()["broken"]
    assert (broken["name"], broken["distribution"]) == ("typo", "dist-typo")
    assert "unknown hook 'dj_register_codec'" in broken["error"]
    assert "plugin 'typo'" in broken["error"]

    monkeypatch.setenv("DJ_STRICT_PLUGINS", "1")
    strict = PluginHost(use_entry_points=False)
    strict.add_plugin(plugin_module("typo_mod", **misspelt), name="typo")
    with pytest.raises(PluginError, match=r"plugin 'typo' implements the unknown hook"):
        strict.load()


def test_an_optional_hook_of_an_absent_extension_is_not_an_error(monkeypatch):
    monkeypatch.setenv("DJ_STRICT_PLUGINS", "1")
    module = types.ModuleType("optional")
    module.ext_greet = hookimpl(optionalhook=True)(lambda greetings: None)
    host = PluginHost(use_entry_points=False)
    host.add_plugin(module)
    host.load()
    assert host.broken_plugins() == []


def fake_distribution(tmp_path, name: str, entries: str) -> list[im.EntryPoint]:
    """The entry points of a distribution ``name`` 1.0 written under ``tmp_path``."""
    info = tmp_path / name / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entries)
    (dist,) = im.distributions(path=[str(info.parent)])
    return list(dist.entry_points)


def use_entry_points(monkeypatch, points: list[im.EntryPoint]) -> None:
    monkeypatch.setattr(
        im, "entry_points", lambda group=None: [p for p in points if p.group == group]
    )


def test_a_broken_plugin_is_blamed_by_exact_distribution_name(monkeypatch, tmp_path):
    monkeypatch.delenv("DJ_STRICT_PLUGINS", raising=False)
    points = fake_distribution(
        tmp_path, "dj-backend-oracle-extra", "[datajoint.plugins]\nextra = no_such_oracle_mod\n"
    ) + fake_distribution(tmp_path, "Oracle_DB", "[datajoint.plugins]\nodb = no_such_odb_mod\n")
    use_entry_points(monkeypatch, points)
    host = PluginHost()
    # "oracle" is part of a broken distribution's name, but that is not the distribution
    with pytest.raises(PluginError, match=r"^No database backend 'oracle' is installed\."):
        host.get("backend", "oracle")
    # the PEP 503 name of Oracle_DB is oracle-db
    with pytest.raises(PluginError, match=r"'oracle-db' is unavailable because .*Oracle_DB"):
        host.get("backend", "oracle-db")
    with pytest.raises(PluginError, match=r"'extra' is unavailable because"):
        host.get("backend", "extra")  # the entry-point name


def test_block_list_matches_normalised_distribution_names(monkeypatch, tmp_path):
    points = fake_distribution(
        tmp_path, "dj-lab-codecs", "[datajoint.codecs]\nlabcodec = json:JSONDecoder\n"
    )
    use_entry_points(monkeypatch, points)
    monkeypatch.setenv("DJ_DISABLE_PLUGINS", "DJ_Lab.Codecs")
    assert PluginHost().names("codec") == []


def test_entry_point_codecs_register_through_the_public_api(monkeypatch, tmp_path):
    points = fake_distribution(
        tmp_path,
        "dj-lab-codecs",
        "[datajoint.codecs]\nlabcodec = json:JSONDecoder\n"
        "[datajoint.types]\noldcodec = json:JSONEncoder\n",
    )
    use_entry_points(monkeypatch, points)
    calls = []
    original = PluginHost.register

    def spy(self, kind, name, target, **provenance):
        calls.append((kind, name, provenance["distribution"], provenance["version"]))
        return original(self, kind, name, target, **provenance)

    monkeypatch.setattr(PluginHost, "register", spy)
    host = PluginHost()
    codecs = {c["name"]: c for c in host.listing()["codecs"]}
    assert ("codec", "labcodec", "dj-lab-codecs", "1.0") in calls
    assert ("codec", "oldcodec", "dj-lab-codecs", "1.0") in calls
    assert codecs["labcodec"] == {
        "name": "labcodec",
        "distribution": "dj-lab-codecs",
        "version": "1.0",
        "plugin": "labcodec",
    }


def test_define_and_unregister():
    host = PluginHost(use_entry_points=False)
    host.add_plugin(plugin_module("p", **registering("dj_register_storage_protocols", "f1")))
    first = host.define("storage_protocol", "mine", "impl-1", identity="mod.A")
    assert host.define("storage_protocol", "mine", "impl-2", identity="mod.B") is first  # kept
    assert host.define("storage_protocol", "mine", "impl-3", identity="mod.A").target == "impl-3"
    assert host.get("storage_protocol", "mine") == "impl-3"
    assert {"name": "mine", "distribution": "(in-process)", "version": "", "plugin": "mod.A"} in (
        host.listing()["storage_protocols"]
    )
    assert host.names("storage_protocol") == ["f1", "mine"]
    assert host.unregister("storage_protocol", "f1") and host.unregister("storage_protocol", "mine")
    assert not host.unregister("storage_protocol", "mine")
    assert host.names("storage_protocol") == [] and not host.has("storage_protocol", "f1")
