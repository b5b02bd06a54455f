"""Draws ``docs/diagram.svg``, the pipeline picture in the README.

Two schemas of a small electrophysiology pipeline are declared on a throwaway embedded SQLite
database and drawn by the built-in SVG renderer (no Graphviz needed) with the "auto" theme, so the
picture follows the reader's light or dark colour scheme. Run it after changing the renderer:

    .venv/bin/python examples/diagram.py

``tests/test_diagram_render.py`` checks that the committed picture is what this script draws.
"""

# The schema decorator resolves ``-> Table`` in a definition from the caller's local variables.
from __future__ import annotations

import tempfile
from pathlib import Path

import datajoint as dj
from datajoint.diagram import render

PICTURE = Path(__file__).resolve().parents[1] / "docs" / "diagram.svg"


def declare(connection: dj.Connection) -> dj.Diagram:
    """The two schemas' tables, declared; their diagram."""
    lab = dj.Schema("lab", connection=connection)
    ephys = dj.Schema("ephys", connection=connection)

    @lab
    class Species(dj.Lookup):
        definition = """
        species : varchar(32)
        """

    @lab
    class Subject(dj.Manual):
        definition = """
        subject : int32
        ---
        -> Species
        """

    @lab
    class Experimenter(dj.Manual):
        definition = """
        experimenter : varchar(32)
        """

    @lab
    class Session(dj.Manual):
        definition = """
        -> Subject
        session : int16
        ---
        -> Experimenter
        """

        class Trial(dj.Part):
            definition = """
            -> master
            trial : int32
            """

    @lab
    class Surgery(dj.Manual):
        definition = """
        -> Subject
        surgery : int16
        ---
        -> Experimenter.proj(surgeon="experimenter")
        """

    @ephys
    class ProbeType(dj.Lookup):
        definition = """
        probe_type : varchar(32)
        """

    @ephys
    class Probe(dj.Manual):
        definition = """
        probe : varchar(32)
        ---
        -> ProbeType
        """

        class Electrode(dj.Part):
            definition = """
            -> master
            electrode : int16
            """

    @ephys
    class Recording(dj.Imported):
        definition = """
        -> Session
        -> Probe
        """

        class Channel(dj.Part):
            definition = """
            -> master
            -> Probe.Electrode
            """

    @ephys
    class SortMethod(dj.Lookup):
        definition = """
        sort_method : varchar(32)
        """

    @ephys
    class SpikeSort(dj.Computed):
        definition = """
        -> Recording
        -> SortMethod
        """

        class Unit(dj.Part):
            definition = """
            -> master
            unit : int32
            """

    @ephys
    class Tuning(dj.Computed):
        definition = """
        -> SpikeSort.Unit
        -> Session.Trial
        """

    @ephys
    class Curation(dj.Manual):
        definition = """
        -> SpikeSort
        ---
        -> Experimenter.proj(curator="experimenter")
        """

    return dj.Diagram(lab) + dj.Diagram(ephys)


def draw() -> str:
    """The SVG text of the README's picture."""
    with tempfile.TemporaryDirectory() as folder:
        connection = dj.Connection(
            backend="sqlite", database_name=str(Path(folder) / "pipeline.sqlite3")
        )
        try:
            return render.make_svg(
                declare(connection), theme="auto", direction="TB", engine="builtin"
            )
        finally:
            connection.close()


if __name__ == "__main__":
    PICTURE.write_text(draw(), encoding="utf-8")
    print(f"wrote {PICTURE}")
