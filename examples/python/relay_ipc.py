#!/usr/bin/env python3
"""The classic Redis IPC pattern, next to the edge relay, with nothing but redis-py.

    REDIS_URL=redis://127.0.0.1:6379 python3 relay_ipc.py subscribe orders 3   # raw payloads the relay publishes
    python3 relay_ipc.py get config                                           # a value stored over HTTP
    python3 relay_ipc.py set config '{"mode": "fast"}'                         # the relay serves it as JSON
    python3 relay_ipc.py publish orders '{"id": 17}' --script publish.lua     # durable: history + SSE + raw

`publish.lua` is PUBLISH_LUA from src/relay/redis/publish-script.ts, verbatim (docs/data-model.md).
Needs redis-py (`pip install redis`, or Debian's python3-redis).
"""
import argparse
import json
import os
import sys

import redis


def connect():
    return redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))


def parse(payload: bytes):
    text = payload.decode("utf-8")
    try:
        return json.loads(text)
    except ValueError:
        return text


def subscribe(r, channel, count):
    pubsub = r.pubsub()
    pubsub.subscribe(channel)
    seen = 0
    for message in pubsub.listen():
        if message["type"] == "subscribe":
            print("ready", file=sys.stderr, flush=True)
        elif message["type"] == "message":
            print(json.dumps({"channel": message["channel"].decode(), "data": parse(message["data"])}), flush=True)
            seen += 1
            if seen == count:
                return


def publish(r, channel, data, script_path, event=""):
    with open(script_path, encoding="utf-8") as f:
        script = r.register_script(f.read())  # EVALSHA with EVAL fallback
    keys = [f"relay:{{{channel}}}:log", f"relay:{{{channel}}}:epoch"]
    json.loads(data)  # refuse what is not JSON: subscribers would get it parsed
    stream_id, epoch, receivers, _replayed = script(
        keys=keys, args=[channel, data, "json", event, "", 1000, 86400, 300, 1]
    )
    print(json.dumps({"stream_id": stream_id.decode(), "epoch": epoch.decode(), "receivers": receivers}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sub = commands.add_parser("subscribe")
    sub.add_argument("channel")
    sub.add_argument("count", type=int)
    get = commands.add_parser("get")
    get.add_argument("key")
    put = commands.add_parser("set")
    put.add_argument("key")
    put.add_argument("json")
    pub = commands.add_parser("publish")
    pub.add_argument("channel")
    pub.add_argument("json")
    pub.add_argument("--script", required=True)
    pub.add_argument("--event", default="")
    args = parser.parse_args()

    r = connect()
    if args.command == "subscribe":
        subscribe(r, args.channel, args.count)
    elif args.command == "get":
        value = r.get(args.key)
        if value is None:
            print(f"no key {args.key!r}", file=sys.stderr)
            sys.exit(3)
        print(json.dumps(json.loads(value)))
    elif args.command == "set":
        json.loads(args.json)
        r.set(args.key, args.json)
    elif args.command == "publish":
        publish(r, args.channel, args.json, args.script, args.event)


if __name__ == "__main__":
    main()
