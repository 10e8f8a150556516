#!/usr/bin/python3
"""Parses a Perfetto trace with the protobuf library and test/db/perfetto_trace.proto (the
format's own field numbers) and prints it as JSON: a list of packets. Fails if any byte is
not a field that proto declares (a wrong field number or wire type).

usage: decode_perfetto.py TRACE WORKDIR   (Debian's python3, for python3-protobuf)
"""
import json
import os
import subprocess
import sys

trace_path, work = sys.argv[1:3]
here = os.path.dirname(os.path.abspath(__file__))
subprocess.run(['protoc', f'--proto_path={here}', f'--python_out={work}', 'perfetto_trace.proto'], check=True)
sys.path.insert(0, work)
import perfetto_trace_pb2  # noqa: E402
from google.protobuf import json_format  # noqa: E402

data = open(trace_path, 'rb').read()
trace = perfetto_trace_pb2.Trace.FromString(data)
trace.DiscardUnknownFields()
# Re-encoded without unknown fields, a trace holding only declared fields keeps its size.
if trace.ByteSize() != len(data):
    sys.exit(f'{trace_path}: {len(data) - trace.ByteSize()} bytes are not fields of perfetto_trace.proto')
json.dump([json_format.MessageToDict(p, preserving_proto_field_name=True) for p in trace.packet], sys.stdout)
