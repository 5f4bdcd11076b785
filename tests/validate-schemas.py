#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Checks the event JSON Schemas in data/schemas/ and the example events in
# data/events/, with the standard library only:
#
#  - every schema parses (no duplicate keys), is draft 2020-12 with the
#    expected $id, a title and a description on every property, and uses only
#    the keywords the SDK's validator (core/sdk/astra-event-schema.c)
#    implements, with values of the right shape;
#  - every schema is listed in core/sdk/astra-sdk.gresource.xml and
#    data/meson.build;
#  - every event type has exactly one fixture data/events/<type>.json that is
#    a canonical body {"event":"<type>","timestamp":"...Z","data":{...}} (as
#    JavaScript's JSON.stringify(JSON.parse(body)) writes it) whose data
#    satisfies the schema, checked by a small validator independent of the C one.
#
# Usage: tests/validate-schemas.py [SOURCE_DIR]
# SOURCE_DIR defaults to $ASTRA_SOURCE_DIR, then to the parent of this
# script's directory. Exits 0 when everything is fine, 1 otherwise.

import datetime
import decimal
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "https://astranetmon.org/schemas/astra-alerts/"
EVENT_TYPES = [
    "agent.status_changed",
    "agent.registered",
    "speedtest.completed",
    "traceroute.completed",
    "service_test.failed",
    "alert.triggered",
    "alert.resolved",
]
ANNOTATIONS = {"$schema", "$id", "title", "description", "examples", "$comment"}
ASSERTIONS = {
    "type",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "minimum",
    "minLength",
    "maxLength",
    "format",
}
TYPES = {"null", "boolean", "integer", "number", "string", "array", "object"}
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATE_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$"
)

errors = []


def fail(where, msg):
    errors.append("%s: %s" % (where, msg))


class DuplicateKey(ValueError):
    pass


def no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise DuplicateKey("duplicate key %r" % key)
        obj[key] = value
    return obj


def reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def load_json(path):
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    return raw, text, json.loads(text, object_pairs_hook=no_duplicates, parse_constant=reject_constant)


# the schemas


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_scalar(v):
    return v is None or isinstance(v, (bool, str)) or is_number(v)


def lint_schema(schema, where, is_root=False, is_property=False):
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        fail(where, "a schema must be an object or a boolean")
        return
    for key in schema:
        if key not in ANNOTATIONS and key not in ASSERTIONS:
            fail(where, "keyword %r is not implemented by the SDK's validator" % key)
    for key in ("$schema", "$id", "title", "description", "$comment", "format"):
        if key in schema and not isinstance(schema[key], str):
            fail(where, "%s must be a string" % key)
    if "examples" in schema and not isinstance(schema["examples"], list):
        fail(where, "examples must be an array")
    if is_root:
        for key in ("$schema", "$id", "title", "description"):
            if key not in schema:
                fail(where, "missing %s" % key)
        if schema.get("$schema") != DIALECT:
            fail(where, "$schema must be %s" % DIALECT)
    elif "$schema" in schema or "$id" in schema:
        fail(where, "$schema and $id belong at the root")
    if is_property and "description" not in schema:
        fail(where, "every property needs a description")

    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not names or not all(isinstance(t, str) and t in TYPES for t in names):
            fail(where, "bad type %r" % (types,))
        elif len(set(names)) != len(names):
            fail(where, "type lists a name twice")
    if "required" in schema:
        req = schema["required"]
        if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
            fail(where, "required must be an array of strings")
        elif len(set(req)) != len(req):
            fail(where, "required lists a name twice")
        else:
            props = schema.get("properties", {})
            for r in req:
                if r not in props:
                    fail(where, "required field %r has no entry in properties" % r)
    if "properties" in schema:
        if not isinstance(schema["properties"], dict):
            fail(where, "properties must be an object")
        else:
            for name, sub in schema["properties"].items():
                lint_schema(sub, "%s.properties.%s" % (where, name), is_property=True)
    if types == "object" or "properties" in schema:
        # producers may always add fields: say so explicitly
        if "additionalProperties" not in schema:
            fail(where, "object schemas must state additionalProperties")
        elif schema["additionalProperties"] is False:
            fail(where, "additionalProperties must not be false (producers may add fields)")
    if "additionalProperties" in schema:
        lint_schema(schema["additionalProperties"], where + ".additionalProperties")
    if "items" in schema:
        lint_schema(schema["items"], where + ".items")
    if "enum" in schema:
        if not isinstance(schema["enum"], list) or not schema["enum"]:
            fail(where, "enum must be a non-empty array")
        elif not all(is_scalar(v) for v in schema["enum"]):
            fail(where, "enum values must be scalars")
    if "const" in schema and not is_scalar(schema["const"]):
        fail(where, "const must be a scalar")
    if "minimum" in schema and not is_number(schema["minimum"]):
        fail(where, "minimum must be a number")
    for key in ("minLength", "maxLength"):
        if key in schema:
            v = schema[key]
            if not is_number(v) or v < 0 or v != int(v):
                fail(where, "%s must be a non-negative integer" % key)
    if "minLength" in schema and "maxLength" in schema and schema["minLength"] > schema["maxLength"]:
        fail(where, "minLength is greater than maxLength")
    if "format" in schema and schema["format"] != "date-time":
        fail(where, "format %r is not implemented by the SDK's validator" % schema["format"])


# an independent little validator for the fixtures


def is_date_time(s):
    m = DATE_TIME_RE.match(s)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return True


def json_type_ok(value, name):
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "number":
        return is_number(value)
    if name == "integer":
        return is_number(value) and float(value) == int(value)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    return False


def json_equal(a, b):
    if is_number(a) and is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def check(schema, value, path):
    if schema is True:
        return
    if schema is False:
        fail(path, "not allowed")
        return
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if not any(json_type_ok(value, t) for t in names):
            fail(path, "expected %s" % " or ".join(names))
            return
    if "const" in schema and not json_equal(schema["const"], value):
        fail(path, "must be %r" % (schema["const"],))
    if "enum" in schema and not any(json_equal(e, value) for e in schema["enum"]):
        fail(path, "must be one of %r" % (schema["enum"],))
    if is_number(value) and "minimum" in schema and value < schema["minimum"]:
        fail(path, "must be >= %r" % schema["minimum"])
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            fail(path, "shorter than %d" % schema["minLength"])
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            fail(path, "longer than %d" % schema["maxLength"])
        if schema.get("format") == "date-time" and not is_date_time(value):
            fail(path, "not an RFC 3339 date-time")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check(schema["items"], item, "%s[%d]" % (path, i))
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                fail("%s.%s" % (path, name), "missing required field")
        props = schema.get("properties", {})
        for name, item in value.items():
            if name in props:
                check(props[name], item, "%s.%s" % (path, name))
            elif "additionalProperties" in schema:
                check(schema["additionalProperties"], item, "%s.%s" % (path, name))


# canonical form: JSON.stringify(JSON.parse(body))


def js_number(value):
    f = float(value)
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError("not finite")
    if f == 0:
        return "0"
    sign = "-" if f < 0 else ""
    # repr() is the shortest round-trip form, as in ECMAScript
    digits_tuple = decimal.Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    k = len(digits)
    n = digits_tuple.exponent + k
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = ("e+" if e >= 0 else "e-") + str(abs(e))
    if k == 1:
        return sign + digits + exp
    return sign + digits[0] + "." + digits[1:] + exp


def is_array_index(key):
    return re.fullmatch(r"0|[1-9][0-9]*", key) is not None and int(key) < 2**32 - 1


def canonical(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if is_number(value):
        return js_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    keys = sorted((k for k in value if is_array_index(k)), key=int)
    keys += [k for k in value if not is_array_index(k)]
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + canonical(value[k]) for k in keys) + "}"


def main():
    if len(sys.argv) > 2:
        print("usage: validate-schemas.py [SOURCE_DIR]", file=sys.stderr)
        return 2
    srcdir = (
        sys.argv[1]
        if len(sys.argv) == 2
        else os.environ.get("ASTRA_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
    schema_dir = os.path.join(srcdir, "data", "schemas")
    events_dir = os.path.join(srcdir, "data", "events")

    # the same set everywhere
    files = sorted(f for f in os.listdir(schema_dir) if f.endswith(".json"))
    expected = sorted(t + ".schema.json" for t in EVENT_TYPES)
    if files != expected:
        fail(schema_dir, "expected exactly %s, found %s" % (expected, files))
    gresource = os.path.join(srcdir, "core", "sdk", "astra-sdk.gresource.xml")
    listed = sorted(
        os.path.basename(e.text.strip())
        for e in ET.parse(gresource).getroot().iter("file")
        if e.text and e.text.strip().startswith("schemas/")
    )
    if listed != expected:
        fail(gresource, "lists %s, expected %s" % (listed, expected))
    with open(os.path.join(srcdir, "data", "meson.build"), encoding="utf-8") as f:
        installed = sorted(os.path.basename(p) for p in re.findall(r"'(schemas/[^']+)'", f.read()))
    if installed != expected:
        fail("data/meson.build", "installs %s, expected %s" % (installed, expected))
    fixtures = sorted(os.listdir(events_dir))
    if fixtures != sorted(t + ".json" for t in EVENT_TYPES):
        fail(events_dir, "expected one <type>.json per event type, found %s" % fixtures)

    n_schemas = n_fixtures = 0
    for event_type in EVENT_TYPES:
        schema_path = os.path.join(schema_dir, event_type + ".schema.json")
        try:
            _, _, schema = load_json(schema_path)
        except (OSError, ValueError) as e:
            fail(schema_path, str(e))
            continue
        before = len(errors)
        lint_schema(schema, event_type + ".schema.json", is_root=True)
        if isinstance(schema, dict):
            if schema.get("$id") != ID_PREFIX + event_type + ".json":
                fail(schema_path, "$id must be %s%s.json" % (ID_PREFIX, event_type))
            if schema.get("type") != "object":
                fail(schema_path, "the data of an event is an object")
        if len(errors) == before:
            n_schemas += 1

        fixture_path = os.path.join(events_dir, event_type + ".json")
        try:
            raw, text, body = load_json(fixture_path)
        except (OSError, ValueError) as e:
            fail(fixture_path, str(e))
            continue
        before = len(errors)
        if not isinstance(body, dict) or list(body) != ["event", "timestamp", "data"]:
            fail(fixture_path, "must be an object with the keys event, timestamp, data in this order")
            continue
        if body["event"] != event_type:
            fail(fixture_path, "event is %r, expected %r" % (body["event"], event_type))
        if not isinstance(body["timestamp"], str) or not TIMESTAMP_RE.match(body["timestamp"]):
            fail(fixture_path, "timestamp must look like 2025-12-17T10:30:00Z")
        if not isinstance(body["data"], dict):
            fail(fixture_path, "data must be an object")
        elif isinstance(schema, dict):
            check(schema, body["data"], "%s: data" % os.path.basename(fixture_path))
        if canonical(body).encode("utf-8") != raw:
            fail(fixture_path, "not canonical (compact, JavaScript number forms, no trailing newline)")
        if len(errors) == before:
            n_fixtures += 1

    for e in errors:
        print("validate-schemas: " + e, file=sys.stderr)
    print(
        "validate-schemas: %d/%d schemas and %d/%d fixtures OK"
        % (n_schemas, len(EVENT_TYPES), n_fixtures, len(EVENT_TYPES))
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
