#!/usr/bin/python3
"""speedscope_check.py FILE: checks an `xtrace export --format speedscope` file against the
rules of speedscope's file format (https://www.speedscope.app/file-format-schema.json, the
parts that concern the sampled profiles xtrace writes, restated below as a JSON schema), then
what a schema cannot say: every frame index in range, a weight per sample, endValue the sum of
the weights, activeProfileIndex a profile. Prints "profiles N weights W" and then a line
"NAME W" per profile; exits 1 with the first violation."""
import json
import sys

import jsonschema

NUMBER = {"type": "number"}
FRAME = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "file": {"type": "string"}, "line": NUMBER,
                   "col": NUMBER},
}
SAMPLED = {
    "type": "object",
    "required": ["type", "name", "unit", "startValue", "endValue", "samples", "weights"],
    "properties": {
        "type": {"type": "string", "enum": ["sampled"]},
        "name": {"type": "string"},
        "unit": {"type": "string", "enum": ["bytes", "microseconds", "milliseconds",
                                            "nanoseconds", "none", "seconds"]},
        "startValue": NUMBER,
        "endValue": NUMBER,
        "samples": {"type": "array", "items": {"type": "array", "items": NUMBER}},
        "weights": {"type": "array", "items": NUMBER},
    },
}
SCHEMA = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "type": "object",
    "required": ["$schema", "profiles", "shared"],
    "properties": {
        "$schema": {"type": "string",
                    "enum": ["https://www.speedscope.app/file-format-schema.json"]},
        "shared": {"type": "object", "required": ["frames"],
                   "properties": {"frames": {"type": "array", "items": FRAME}}},
        "profiles": {"type": "array", "items": SAMPLED},
        "name": {"type": "string"},
        "activeProfileIndex": NUMBER,
        "exporter": {"type": "string"},
    },
}


def fail(msg):
    print("speedscope_check: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    try:
        jsonschema.Draft6Validator(SCHEMA).validate(doc)
    except jsonschema.ValidationError as e:
        fail("schema: %s at %s" % (e.message, list(e.absolute_path)))
    nframes = len(doc["shared"]["frames"])
    if doc.get("exporter") != "xtrace":
        fail("exporter is not xtrace")
    profiles = doc["profiles"]
    if profiles and not 0 <= doc.get("activeProfileIndex", -1) < len(profiles):
        fail("activeProfileIndex %r is no profile" % doc.get("activeProfileIndex"))
    if len({p["name"] for p in profiles}) != len(profiles):
        fail("two profiles have one name")
    used = set()
    total = 0
    lines = []
    for p in profiles:
        if p["unit"] != "bytes" or p["startValue"] != 0:
            fail("%s: unit %s, startValue %s" % (p["name"], p["unit"], p["startValue"]))
        if len(p["samples"]) != len(p["weights"]):
            fail("%s: %d samples, %d weights" % (p["name"], len(p["samples"]), len(p["weights"])))
        for s in p["samples"]:
            if not s:
                fail("%s: an empty stack" % p["name"])
            for i in s:
                if not isinstance(i, int) or not 0 <= i < nframes:
                    fail("%s: frame index %r out of range" % (p["name"], i))
                used.add(i)
        w = sum(p["weights"])
        if p["endValue"] != w or any(x < 0 for x in p["weights"]):
            fail("%s: endValue %s, weights add up to %s" % (p["name"], p["endValue"], w))
        total += w
        lines.append("%s %d" % (p["name"], w))
    if len(used) != nframes:
        fail("%d of %d frames used by no sample" % (nframes - len(used), nframes))
    print("profiles %d weights %d" % (len(profiles), total))
    print("\n".join(lines))


main()
