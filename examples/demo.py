"""A small pipeline on the embedded SQLite default: no server, no configuration.

Run it with ``python3 dev.py demo``. Set ``DJ_BACKEND``/``DJ_HOST``/``DJ_USER``/``DJ_PASS`` to run the
same pipeline on MySQL/MariaDB or PostgreSQL.
"""

from __future__ import annotations

import os
import tempfile

import datajoint as dj

if "DJ_SQLITE_FILE" not in os.environ and not os.environ.get("DJ_HOST"):
    dj.config["database.sqlite_file"] = os.path.join(tempfile.mkdtemp(), "demo.sqlite3")
dj.config["safemode"] = False

schema = dj.Schema("demo_lab")


@schema
class Species(dj.Lookup):
    definition = """
    # animal species used in the lab
    species : varchar(32)
    ---
    latin_name : varchar(64)
    """
    contents = [("mouse", "Mus musculus"), ("rat", "Rattus norvegicus")]


@schema
class Subject(dj.Manual):
    definition = """
    subject_id : int32
    ---
    -> Species
    sex : enum('F', 'M', 'U')
    date_of_birth = null : date
    """


@schema
class Session(dj.Manual):
    definition = """
    -> Subject
    session : int16
    ---
    session_date : date
    notes = "" : varchar(255)
    """

    class Trial(dj.Part):
        definition = """
        -> master
        trial : int32
        ---
        outcome : enum('hit', 'miss')
        reaction_time = null : float64   # seconds
        """


def main() -> None:
    import datetime

    Subject.insert(
        [
            {
                "subject_id": 1,
                "species": "mouse",
                "sex": "F",
                "date_of_birth": datetime.date(2026, 1, 5),
            },
            {"subject_id": 2, "species": "rat", "sex": "M", "date_of_birth": None},
        ]
    )
    Session.insert1({"subject_id": 1, "session": 1, "session_date": datetime.date(2026, 3, 1)})
    Session.Trial.insert(
        {
            "subject_id": 1,
            "session": 1,
            "trial": t,
            "outcome": "hit" if t % 3 else "miss",
            "reaction_time": 0.25 + t / 100,
        }
        for t in range(1, 7)
    )
    print(f"Backend: {Session.connection.backend.name}; tables: {schema.list_tables()}")
    print("\nSubjects:")
    for row in Subject.to_dicts():
        print("  ", row)
    hits = Session.Trial & {"subject_id": 1, "outcome": "hit"}
    print(f"\nHits of subject 1: {len(hits)} of {len(Session.Trial & {'subject_id': 1})} trials")
    for row in hits.to_dicts(order_by="reaction_time DESC"):
        print(f"   trial {row['trial']}: {row['reaction_time']:.2f} s")
    print("\nTrials per session (aggregation):")
    summary = Session.aggr(Session.Trial, n="count(*)", mean_rt="avg(reaction_time)")
    for row in (summary * Subject).to_dicts():
        print(
            f"   subject {row['subject_id']} ({row['species']}), session {row['session']}: "
            f"{row['n']} trials, mean reaction time {row['mean_rt']:.3f} s"
        )
    print("\nOne session:", (Session & {"subject_id": 1, "session": 1}).fetch1())
    print("\nSession definition:\n" + Session.describe())
    schema.drop(prompt=False)


if __name__ == "__main__":
    main()
