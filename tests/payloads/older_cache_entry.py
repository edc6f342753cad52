from dlkit.store import USER_DIR
from dlkit.store.index import installed, read_index, write_index

defaults, _, assets = installed()
entry = dict(assets[defaults["backbone"]], name="older")
del entry["backbone"]["features"]  # as an older dl-assets wrote it
USER_DIR.mkdir(parents=True, exist_ok=True)
index = read_index(USER_DIR)
index["assets"]["older"] = entry
write_index(USER_DIR, index)
