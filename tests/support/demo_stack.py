"""`make demo`: a local Pusher server, a trickle of realistic sample events, and `login-feed tail`.

Everything runs on loopback and stops on Ctrl+C. (The full demo stack, with a local OpenID provider,
the authorization server and the window, replaces this once they exist.)
"""

from __future__ import annotations

import itertools
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi

ROOT = Path(__file__).resolve().parents[2]
CHANNEL = "private-login-feed"
PEOPLE = [("Ada Lovelace", "GB", "London"), ("Grace Hopper", "US", "Arlington"), ("Alan Turing", "GB", "Wilmslow"),
          ("Hedy Lamarr", "AT", "Vienna"), ("Katherine Johnson", "US", "Hampton"), ("Kenji Tanaka", "JP", "Osaka"),
          ("Amara Okafor", "NG", "Lagos"), ("Lucía Fernández", "ES", "Sevilla"), ("Noor Haddad", "JO", "Amman"),
          ("Mateus Silva", "BR", "Recife")]
CONNECTIONS = ["Username-Password-Authentication", "google-oauth2", "github", "windowslive"]
APPS = ["Support Portal", "Mobile App", "Billing"]


def sample_event(n: int, rng: random.Random) -> tuple[str, dict[str, object]]:
    name, country, city = rng.choice(PEOPLE)
    signup = rng.random() < 0.1
    user = name.lower().replace(" ", ".")
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    payload = {"v": 1, "type": "signup" if signup else "login", "user_id": f"auth0|{abs(hash(user)) % 10**8}",
               "email": f"{user}@example.com", "name": name, "nickname": user.split(".")[0],
               "picture": f"https://example.com/avatars/{user}.png", "connection": rng.choice(CONNECTIONS),
               "client_name": rng.choice(APPS), "country": country, "city": city,
               "ip": f"203.0.113.{n % 250}", "logins_count": 1 if signup else rng.randint(2, 400), "at": now,
               "updated_at": now, "app_metadata": {"signedUp": signup}}
    return ("user-signedUp" if signup else "user-loggedIn"), payload


def publish_forever(soketi: Soketi, stop: threading.Event) -> None:
    rng = random.Random()
    for n in itertools.count():
        if stop.wait(rng.uniform(0.5, 2.0)):
            return
        event, payload = sample_event(n, rng)
        try:
            soketi.trigger(CHANNEL, event, payload)
        except Exception as exc:
            print(f"demo: could not publish: {exc}", file=sys.stderr)


def main() -> int:
    stop = threading.Event()
    with Soketi() as soketi, tempfile.TemporaryDirectory(prefix="login-feed-demo-") as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(f'[pusher]\nkey = "{APP_KEY}"\nhost = "127.0.0.1"\nport = {soketi.port}\ntls = false\n'
                          f'app_id = "{APP_ID}"\n\n[authorization]\nmode = "local"\n\n[feed]\nchannel = "{CHANNEL}"\n')
        print(f"demo: soketi on 127.0.0.1:{soketi.port}, config in {config}; Ctrl+C stops everything",
              file=sys.stderr)
        publisher = threading.Thread(target=publish_forever, args=(soketi, stop), daemon=True)
        publisher.start()
        env = dict(os.environ, LOGIN_FEED_PUSHER_SECRET=APP_SECRET)
        tail = subprocess.Popen([str(ROOT / ".venv" / "bin" / "login-feed"), "--config", str(config), "tail",
                                 "--format", "text"], env=env)
        try:
            return tail.wait()
        except KeyboardInterrupt:
            tail.wait(timeout=10)
            return 0
        finally:
            stop.set()
            if tail.poll() is None:
                tail.terminate()
                tail.wait(timeout=10)
            time.sleep(0)


if __name__ == "__main__":
    sys.exit(main())
