#!/usr/bin/env python3
"""M/M/c queue in SimPy: the peer of strait's scenarios/mmc.toml.

The model is the one strait simulates with scenarios/mmc.toml, written the way SimPy's own
examples write it:

    clients --(0 ms)--> [ FIFO queue ] --> c servers, exponential service

* one source process generates requests with exponential inter-arrival times (Poisson
  arrivals at rate lambda per second);
* each request is a process that asks a ``simpy.Resource(capacity=c)`` for a server (SimPy
  grants requests first come, first served), holds it for an exponential service time with
  mean 1/mu, then releases it;
* the run ends at ``--duration-s`` simulated seconds, or as soon as ``--requests`` requests
  have been generated, whichever comes first; requests still queued or in service then are
  in flight, not completed (as in strait);
* statistics, like strait's, cover only requests created at or after ``--warmup-s``: the
  queue wait (service start minus arrival) is recorded when such a request completes.
  ``generated`` and ``completed`` count every request, warm-up included, as strait's
  ``summary.json`` does.

Queueing theory (Erlang C). With offered load a = lambda/mu and utilisation rho = a/c < 1,
the probability that an arrival has to wait is

                      a^c / c!  *  c / (c - a)
    C(c, a) = -------------------------------------------
              sum_{k=0}^{c-1} a^k / k!  +  a^c / c! * c / (c - a)

and the mean time in the queue is

    Wq = C(c, a) / (c*mu - lambda).

C is computed, as strait does, from the Erlang B recurrence (numerically stable for large c):
B(0) = 1, B(k) = a*B(k-1) / (k + a*B(k-1)), then C = c*B(c) / (c - a*(1 - B(c))).
Example: lambda = 90/s, mean service 100 ms (mu = 10/s), c = 10: rho = 0.9, Wq = 66.87 ms.

Output: one JSON line with requests generated and completed, the measured and theoretical
mean queue wait in ms, the number of waits measured, the wall time of the simulation
(``env.run`` only: building the model and printing are not timed, as strait's timing.json
times only its simulation) and requests generated per wall-second.
"""

import argparse
import json
import random
import sys
import time

import simpy


def erlang_c_wait_ms(rate, mean_service_ms, servers):
    """Mean queue wait in ms of M/M/c by Erlang C; None when the queue is unstable."""
    mu = 1000.0 / mean_service_ms
    a = rate / mu
    if a >= servers:
        return None
    b = 1.0
    for k in range(1, servers + 1):
        b = a * b / (k + a * b)
    c = servers * b / (servers - a * (1.0 - b))
    return 1000.0 * c / (servers * mu - rate)


class Stats:
    def __init__(self):
        self.generated = 0
        self.completed = 0
        self.waits = 0
        self.wait_sum_s = 0.0


def request(env, servers, service_s, warmup_s, stats):
    """One request: queue for a server, hold it for its service time, leave."""
    created = env.now
    with servers.request() as turn:
        yield turn
        wait = env.now - created
        yield env.timeout(service_s)
    stats.completed += 1
    if created >= warmup_s:
        stats.waits += 1
        stats.wait_sum_s += wait


def source(env, servers, args, rng, stats, limit_reached):
    """Poisson arrivals; stops the run once the request limit (if any) is reached."""
    mean_service_s = args.mean_service_ms / 1000.0
    while True:
        yield env.timeout(rng.expovariate(args.rate))
        stats.generated += 1
        env.process(request(env, servers, rng.expovariate(1.0 / mean_service_s), args.warmup_s, stats))
        if args.requests is not None and stats.generated >= args.requests:
            limit_reached.succeed()
            return


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=90.0, help="arrival rate lambda, per second")
    parser.add_argument("--mean-service-ms", type=float, default=100.0, help="mean service time 1/mu, ms")
    parser.add_argument("--servers", type=int, default=10, help="number of servers c")
    parser.add_argument("--duration-s", type=float, default=3600.0, help="simulated duration, s (warm-up included)")
    parser.add_argument("--warmup-s", type=float, default=600.0, help="warm-up excluded from statistics, s")
    parser.add_argument("--requests", type=int, default=None, help="stop once this many requests were generated")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.mean_service_ms <= 0 or args.servers < 1 or args.duration_s <= 0:
        parser.error("rate, mean service time and duration must be positive, servers at least 1")
    if not 0 <= args.warmup_s < args.duration_s:
        parser.error("the warm-up must be shorter than the duration")
    if args.requests is not None and args.requests < 1:
        parser.error("--requests must be at least 1")

    rng = random.Random(args.seed)
    stats = Stats()
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=args.servers)
    limit_reached = env.event()
    env.process(source(env, servers, args, rng, stats, limit_reached))
    end = env.any_of([limit_reached, env.timeout(args.duration_s)])

    started = time.perf_counter()
    env.run(until=end)
    wall_s = time.perf_counter() - started

    mean_wait_ms = 1000.0 * stats.wait_sum_s / stats.waits if stats.waits else None
    theory_ms = erlang_c_wait_ms(args.rate, args.mean_service_ms, args.servers)
    result = {
        "simulator": "simpy",
        "simpy_version": simpy.__version__,
        "python": sys.version.split()[0],
        "rate_per_s": args.rate,
        "mean_service_ms": args.mean_service_ms,
        "servers": args.servers,
        "simulated_s": env.now,
        "warmup_s": args.warmup_s,
        "seed": args.seed,
        "generated": stats.generated,
        "completed": stats.completed,
        "waits_measured": stats.waits,
        "mean_queue_wait_ms": None if mean_wait_ms is None else round(mean_wait_ms, 6),
        "theory_mean_queue_wait_ms": None if theory_ms is None else round(theory_ms, 6),
        "wall_s": round(wall_s, 6),
        "requests_per_s": round(stats.generated / max(wall_s, 1e-9)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
