# Requests a URL until it is healthy. Runs under steps (or Octopus): the helper functions
# get_octopusvariable, set_octopusvariable, failstep and print* come from the bootstrap.
import ssl
import time
import urllib.error
import urllib.request


def parse_statuses(text):
    allowed = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            allowed.update(range(int(low), int(high or low) + 1))
        except ValueError:
            failstep(f"ExpectedStatus: '{part}' is not a status code or a range like 200-299")
    return allowed


def positive_number(name, cast):
    text = get_octopusvariable(name).strip()
    try:
        value = cast(text)
    except ValueError:
        value = -1
    if value < 0:
        failstep(f"{name}: '{text}' is not a non-negative number")
    return value


def parse_headers(text):
    headers = {}
    for line in text.splitlines():
        if line.strip():
            name, sep, value = line.partition(":")
            if not sep:
                failstep(f"Headers: '{line}' is not in the form 'Name: value'")
            headers[name.strip()] = value.strip()
    return headers


def attempt(request, timeout, context):
    """One request: (status or None, body text, error description)."""
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status, response.read().decode("utf-8", "replace"), ""
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), ""
    except (urllib.error.URLError, OSError) as error:
        return None, "", str(getattr(error, "reason", error))


url = get_octopusvariable("Url").strip()
method = get_octopusvariable("Method") or "GET"
allowed = parse_statuses(get_octopusvariable("ExpectedStatus") or "200-299")
expected = get_octopusvariable("ExpectedContent")
attempts = max(1, positive_number("Attempts", int))
delay = positive_number("DelaySeconds", float)
timeout = positive_number("TimeoutSeconds", float) or None
headers = parse_headers(get_octopusvariable("Headers"))
context = None
if get_octopusvariable("SkipTlsVerification") == "True":
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

problem = "no attempt was made"
for number in range(1, attempts + 1):
    request = urllib.request.Request(url, method=method, headers=headers)
    started = time.monotonic()
    status, body, error = attempt(request, timeout, context)
    elapsed_ms = round((time.monotonic() - started) * 1000)
    if status is None:
        problem = f"request failed: {error}"
    elif status not in allowed:
        problem = f"status {status} is not one of the expected statuses"
    elif expected and expected not in body:
        problem = f"status {status}, but the body does not contain '{expected}'"
    else:
        printhighlight(f"{url} is healthy: status {status} in {elapsed_ms} ms")
        set_octopusvariable("StatusCode", str(status))
        set_octopusvariable("ResponseTimeMs", str(elapsed_ms))
        sys.exit(0)
    print(f"Attempt {number}/{attempts}: {problem}")
    if number < attempts:
        time.sleep(delay)

failstep(f"{url} was not healthy after {attempts} attempts: {problem}")
