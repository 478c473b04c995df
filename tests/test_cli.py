"""Tests of the ``ngff`` command line (typer's CliRunner, plus real console-script runs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ngff
import ngff.cli as cli
from ngff.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def fixtures(conformance_dir: Path) -> Path:
    """Third-party stores of the shared conformance folder (``conformance_dir``: conftest.py)."""
    return conformance_dir / "fixtures"


@pytest.fixture
def v1(fixtures: Path) -> Path:
    return fixtures / "ome_ome-zarr-py/tests/data/v1"


@pytest.fixture
def examples(fixtures: Path) -> Path:
    return fixtures / "BioImageTools_ome-zarr-examples/data"


def _ngff_script() -> str:
    """Path of the installed ``ngff`` console script (beside this Python first)."""
    beside = Path(sys.executable).with_name("ngff")
    found = str(beside) if beside.exists() else shutil.which("ngff")
    if found is None:
        pytest.skip("the ngff console script is not installed")
    return found


def _assert_clean_error(result: Any) -> None:
    """One 'error:' line on stderr, no traceback anywhere."""
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")


# --------------------------------------------------------------------------- top level


def test_version_flag() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"ngff {ngff.__version__}"


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("info", "validate", "demo"):
        assert command in result.stdout


def test_import_is_light() -> None:
    heavy = "('numpy', 'dask', 'zarr', 'napari')"
    code = f"import sys, ngff.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- info


def test_info_json_v01(v1: Path) -> None:
    result = runner.invoke(app, ["info", str(v1), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # exactly one JSON object and nothing else
    assert summary["kind"] == "image"
    assert summary["version"] == "0.1"
    assert summary["dims"] == ["t", "c", "z", "y", "x"]
    (level,) = summary["levels"]
    assert level["path"] == "0"
    assert level["shape"] == [1, 2, 1, 16, 16]
    assert level["dtype"] == "uint8"
    assert level["chunks"] == [1, 2, 1, 128, 128]
    assert level["shards"] is None
    assert level["scale"] == [1.0] * 5
    assert level["translation"] == [0.0] * 5


def test_info_human_v01(v1: Path) -> None:
    result = runner.invoke(app, ["info", str(v1)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "image" in out and "OME-Zarr 0.1" in out
    assert "1×2×1×16×16" in out
    assert "uint8" in out
    assert "blosc(lz4,5,shuffle)" in out
    assert "bytes on disk" in out


def test_info_sharded(tmp_path: Path) -> None:
    from test_summary import write_sharded_image

    store = write_sharded_image(tmp_path / "sharded.ome.zarr")
    result = runner.invoke(app, ["info", str(store), "--json", "--no-size"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["version"] == "0.5"
    assert [lv["shards"] for lv in summary["levels"]] == [[2, 16, 16], [2, 16, 16]]
    assert [lv["chunks"] for lv in summary["levels"]] == [[1, 8, 8], [1, 8, 8]]
    assert summary["levels"][1]["translation"] == [0.0, 0.25, 0.25]
    assert summary["bytes_on_disk"] is None

    human = runner.invoke(app, ["info", str(store)])
    assert human.exit_code == 0, human.output
    assert "shards" in human.stdout and "2×16×16" in human.stdout and "1×8×8" in human.stdout
    assert "zstd(3)" in human.stdout
    assert "orientation: RAS" in human.stdout


def test_info_plate(examples: Path) -> None:
    plate = examples / "valid/plate-01.zarr"
    result = runner.invoke(app, ["info", str(plate), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["kind"] == "plate"
    assert summary["plate"]["rows"] == ["A", "B"]
    assert summary["plate"]["columns"] == ["1", "2"]
    assert summary["plate"]["wells"] == 4
    assert summary["plate"]["fields_per_well"] == 1

    human = runner.invoke(app, ["info", str(plate)])
    assert human.exit_code == 0
    assert "2 rows × 2 columns, 4 of 4 wells present" in human.stdout
    assert "my_wonderful_plate" in human.stdout


def test_info_labels_channels(fixtures: Path) -> None:
    store = fixtures / "ome_ome-ngff-validator/test_samples/invalid/missing_min.zarr"
    result = runner.invoke(app, ["info", str(store)])
    assert result.exit_code == 0, result.output
    assert "Channels" in result.stdout and "FF0000" in result.stdout
    assert "Labels" in result.stdout and "coins" in result.stdout


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_info_missing_path(tmp_path: Path, json_flag: list[str]) -> None:
    result = runner.invoke(app, ["info", str(tmp_path / "missing.zarr"), *json_flag])
    assert result.exit_code == 2
    assert result.stdout == ""
    _assert_clean_error(result)
    assert "no such file or directory" in result.stderr


def test_info_not_ome_zarr(examples: Path) -> None:
    result = runner.invoke(app, ["info", str(examples / "invalid/image-01.zarr")])
    assert result.exit_code == 2
    _assert_clean_error(result)


def test_info_broken_image(examples: Path) -> None:
    # Dataset path without .zarray: reading fails with an NgffError, not a crash.
    result = runner.invoke(app, ["info", str(examples / "invalid/image-03.zarr")])
    assert result.exit_code == 2
    _assert_clean_error(result)


def test_console_script_info_json(v1: Path) -> None:
    proc = subprocess.run(
        [_ngff_script(), "info", "--json", str(v1)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["version"] == "0.1"
    assert summary["levels"][0]["shape"] == [1, 2, 1, 16, 16]


def test_console_script_error_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [_ngff_script(), "info", str(tmp_path / "nope.zarr")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip().startswith("error: ")
    assert len(proc.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- validate


def test_validate_valid(examples: Path) -> None:
    result = runner.invoke(app, ["validate", str(examples / "valid/image-01.zarr")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.stdout


def test_validate_invalid(examples: Path) -> None:
    target = str(examples / "invalid/image-04.zarr")
    result = runner.invoke(app, ["validate", target])
    assert result.exit_code == 1, result.output
    assert "invalid" in result.stdout
    result = runner.invoke(app, ["validate", target, "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["problems"]
    assert {"path", "rule", "message", "severity"} <= set(report["problems"][0])


def test_validate_missing(tmp_path: Path) -> None:
    # Needs no validator: the location is opened (and fails) before validation starts.
    result = runner.invoke(app, ["validate", str(tmp_path / "missing.zarr")])
    assert result.exit_code == 2
    _assert_clean_error(result)


def test_console_script_validate_exit_codes(examples: Path, tmp_path: Path) -> None:
    script = _ngff_script()
    codes = [
        subprocess.run([script, "validate", str(path)], capture_output=True, timeout=120).returncode
        for path in (
            examples / "valid/image-01.zarr",
            examples / "invalid/image-04.zarr",
            tmp_path / "missing",
        )
    ]
    assert codes == [0, 1, 2]


class _FakeProblem:
    path, rule, message, severity = (
        "multiscales[0]",
        "axes.order",
        "axes [x, y] out of order",
        "warning",
    )


class _FakeReport:
    def __init__(self, ok: bool) -> None:
        self.ok = ok
        self.problems = (_FakeProblem(),)

    def to_dict(self) -> dict[str, Any]:
        p = _FakeProblem
        return {
            "ok": self.ok,
            "problems": [
                {"path": p.path, "rule": p.rule, "message": p.message, "severity": p.severity}
            ],
        }


@pytest.mark.parametrize("strict", [False, True])
def test_validate_passes_options_through(
    v1: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strict: bool
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_validate(location: str, **options: Any) -> _FakeReport:
        calls.append((location, options))
        return _FakeReport(ok=not options["strict"])

    monkeypatch.setattr(ngff, "validate", fake_validate, raising=False)
    args = ["validate", str(v1), "--schemas", str(tmp_path)] + ["--strict"] * strict
    result = runner.invoke(app, args)
    assert calls == [(str(v1), {"strict": strict, "schemas": tmp_path})]
    assert result.exit_code == (1 if strict else 0)
    assert "axes.order" in result.stdout and "warning" in result.stdout

    result = runner.invoke(app, [*args, "--json"])
    assert json.loads(result.stdout)["problems"][0]["rule"] == "axes.order"


# --------------------------------------------------------------------------- demo


def test_demo_headless(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", str(tmp_path), "--headless", "--shape", "8,32,32"])
    assert result.exit_code == 0, result.output
    assert "OME-Zarr 0.5" in result.stdout and "cells" in result.stdout
    image = ngff.read(tmp_path / "demo.ome.zarr")
    assert isinstance(image, ngff.Image)
    assert image.dims == ("c", "z", "y", "x")
    assert [c.label for c in image.channels] == ["red", "green", "blue"]
    assert [c.color for c in image.channels] == ["FF0000", "00FF00", "0000FF"]
    assert image.scales[0][1:] == (2.0, 0.5, 0.5)
    assert list(image.labels) == ["cells"]
    cells = image.labels["cells"]
    assert cells.dims == ("z", "y", "x")
    assert cells.image_label is not None and len(cells.image_label.colors) == 6

    # The demo folder may be written again (overwrite is allowed there).
    again = runner.invoke(
        app, ["demo", str(tmp_path), "--headless", "--shape", "8,32,32", "--version", "0.4"]
    )
    assert again.exit_code == 0, again.output
    assert ngff.read(tmp_path / "demo.ome.zarr").version == "0.4"


def test_demo_bad_shape(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", str(tmp_path), "--headless", "--shape", "8,32"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_demo_napari_flag_opens_viewer(
    v1: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Path] = []
    monkeypatch.setattr(cli, "write_demo", lambda target, **_: shutil.copytree(v1, target))
    monkeypatch.setattr(cli, "open_in_napari", lambda target, **_: opened.append(target))
    monkeypatch.setenv("DISPLAY", ":99")
    result = runner.invoke(app, ["demo", str(tmp_path), "--napari"])
    assert result.exit_code == 0, result.output
    assert opened == [[tmp_path / "demo.ome.zarr", tmp_path / "plate.ome.zarr"]]

    # --napari without a display: a clear error instead of Qt aborting the process.
    opened.clear()
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    shutil.rmtree(tmp_path / "demo.ome.zarr")
    shutil.rmtree(tmp_path / "plate.ome.zarr")
    result = runner.invoke(app, ["demo", str(tmp_path), "--napari"])
    assert result.exit_code == 2, result.output
    assert "needs a display" in result.output and opened == []

    opened.clear()
    monkeypatch.setattr(cli, "napari_available", lambda: False)
    shutil.rmtree(tmp_path / "demo.ome.zarr")
    result = runner.invoke(app, ["demo", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert opened == []


def test_napari_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_plugin_has_reader", lambda: True)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setenv("CI", "true")
    assert cli.napari_available() is False  # never a window in CI
    monkeypatch.delenv("CI")
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert cli.napari_available() is False  # no display
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    napari_installed = __import__("importlib").util.find_spec("napari") is not None
    assert cli.napari_available() is napari_installed
    monkeypatch.setattr(cli, "_plugin_has_reader", lambda: False)
    assert cli.napari_available() is False  # napari could not open the store without our reader


def test_manifest_reader_detection() -> None:
    assert cli._manifest_has_reader("contributions:\n  readers:\n    - command: x\n")
    assert not cli._manifest_has_reader("contributions:\n  sample_data:\n    - key: pyramid\n")
