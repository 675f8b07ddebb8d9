"""A publish made with the stock ftrack-python-api 3.1.0 client (run in its own venv).

Reads STOCK_WORK (a folder holding movie.mp4, plate.1001-1010.exr, reference.txt), FTRACK_SERVER/FTRACK_API_USER/FTRACK_API_KEY,
prints one JSON line of findings for the test to check. Written for the stock client's
Python only: it must not import anything from this repository.
"""

import hashlib
import json
import os
import sys
import time

import ftrack_api
import requests

work = os.environ["STOCK_WORK"]
movie = os.path.join(work, "movie.mp4")
reference = os.path.join(work, "reference.txt")
found = {}

session = ftrack_api.Session(auto_connect_event_hub=False, schema_cache_path=work)
found["server_version"] = session.server_information["version"]

task = session.query('Task where name is "Compositing" and parent.name is "sh010"').first()
found["task_link"] = [item["name"] for item in task["link"]]
asset_type = session.query('AssetType where short is "comp"').one()
asset = session.create("Asset", {"name": "stock_publish_%d" % int(time.time() * 1000), "type": asset_type, "parent": task["parent"]})
version = session.create("AssetVersion", {"asset": asset, "task": task, "comment": "from the stock client"})
session.commit()
found["version_number"] = version["version"]
found["version_status"] = version["status"]["name"]

server = session.query('Location where name is "ftrack.server"').one()
unmanaged = session.query('Location where name is "ftrack.unmanaged"').one()

# A single file into ftrack.server, downloaded back through get_url.
component = version.create_component(movie, data={"name": "main"}, location=server)
url = server.get_url(component)
downloaded = requests.get(url, timeout=60).content
found["file_roundtrip"] = hashlib.md5(downloaded).hexdigest() == hashlib.md5(open(movie, "rb").read()).hexdigest()
found["file_availability"] = session.get_component_availability(component)[server["id"]]

# An EXR sequence into ftrack.server: one member per frame, each downloadable.
sequence = version.create_component(os.path.join(work, "plate.%04d.exr [1001-1010]"), data={"name": "plate"}, location=server)
members = sorted(sequence["members"], key=lambda m: int(m["name"]))
found["sequence_members"] = [m["name"] for m in members]
frame = requests.get(server.get_url(members[3]), timeout=60).content
found["frame_roundtrip"] = frame == open(os.path.join(work, "plate.1004.exr"), "rb").read()
found["sequence_padding"] = sequence["padding"]
found["sequence_system_type"] = session.query("select system_type from Component where id is %s" % sequence["id"]).one()["system_type"]

# A path registered where it is (ftrack.unmanaged).
registered = version.create_component(reference, data={"name": "reference"}, location=unmanaged)
found["unmanaged_identifier"] = unmanaged.get_resource_identifier(registered)

# Review media: encode_media from a path, poll the job to the end.
job = version.encode_media(movie)
data = json.loads(job["data"])
found["job_formats"] = sorted(o["format"] for o in data["output"])
deadline = time.time() + 240
while True:
    job = session.query('select status, data from Job where id is "%s"' % job["id"]).one()
    if job["status"] in ("done", "failed") or time.time() > deadline:
        break
    time.sleep(0.5)
found["job_status"] = job["status"]
found["job_data"] = json.loads(job["data"])
outputs = {o["format"]: o["component_id"] for o in data["output"]}
if job["status"] == "done":
    mp4 = session.get("FileComponent", outputs["video/mp4"])
    found["mp4_version"] = mp4["version_id"] == version["id"]
    found["mp4_name"] = mp4["name"]
    found["mp4_meta"] = json.loads(mp4["metadata"]["ftr_meta"])
    with open(os.path.join(work, "review.mp4"), "wb") as fh:
        fh.write(requests.get(server.get_url(mp4), timeout=60).content)
    version_thumb = session.query("select thumbnail_id from AssetVersion where id is %s" % version["id"]).one()
    found["thumbnail_is_jpeg_output"] = version_thumb["thumbnail_id"] == outputs["image/jpeg"]
    thumb = session.get("FileComponent", outputs["image/jpeg"])
    small = requests.get(server.get_thumbnail_url(thumb, size=32), timeout=60)
    found["thumbnail_bytes_start"] = small.content[:3].hex()
    with open(os.path.join(work, "thumb.jpg"), "wb") as fh:
        fh.write(small.content)
    job_components = session.query('select component_id from JobComponent where job_id is "%s"' % job["id"]).all()
    found["job_components"] = sorted(jc["component_id"] for jc in job_components) == sorted(outputs.values())
    source_left = session.query("select id from Component where id is %s" % data["source_component_id"]).all()
    found["source_deleted"] = not source_left
print("RESULT " + json.dumps(found))
