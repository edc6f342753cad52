import importlib
import importlib.metadata as md
import json
import sys

out = {}
for dist, module in json.loads(sys.argv[1]).items():
    try:
        importlib.import_module(module)
        out[dist] = {"version": md.version(dist), "error": None}
    except Exception as e:
        out[dist] = {"version": None, "error": repr(e)}
print(json.dumps(out))
