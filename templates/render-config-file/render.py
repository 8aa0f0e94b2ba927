# Writes the (already substituted) Content parameter to Destination atomically.
# get_octopusvariable, set_octopusvariable, createartifact and failstep come from the bootstrap.
import hashlib
import tempfile

content = get_octopusvariable("Content")
destination = get_octopusvariable("Destination").strip()
mode_text = get_octopusvariable("FileMode").strip()
if not destination:
    failstep("Destination is empty")

base = get_octopusvariable("Steps.Project.Directory") or os.getcwd()
path = os.path.abspath(os.path.join(base, os.path.expanduser(destination)))
mode = None
if mode_text:
    try:
        mode = int(mode_text, 8)
    except ValueError:
        failstep(f"FileMode: '{mode_text}' is not an octal mode such as 0640")

os.makedirs(os.path.dirname(path), exist_ok=True)
data = content.encode("utf-8")
handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".render-")
try:
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    if mode is not None:
        os.chmod(temporary, mode)
    os.replace(temporary, path)
except BaseException:
    if os.path.exists(temporary):
        os.unlink(temporary)
    raise

digest = hashlib.sha256(data).hexdigest()
printhighlight(f"Wrote {path} ({len(data)} bytes)")
set_octopusvariable("Path", path)
set_octopusvariable("Sha256", digest)
if get_octopusvariable("KeepAsArtifact") == "True":
    createartifact(path, os.path.basename(path))
