//! Serving: a deployment's replicas and its one shared FIFO admission queue.
//!
//! Two service models:
//!
//! - **Plain** — each replica serves one request at a time for a sampled service time.
//!   With exponential service and Poisson arrivals a deployment of `c` replicas is exactly
//!   an M/M/c station, which is how the engine is checked against queueing theory.
//! - **LLM** — continuous batching, iteration by iteration. When a replica finishes an
//!   iteration it admits waiting requests up to `max_batch`. If it admitted any, the next
//!   iteration prefills them (taking `Σ input tokens / prefill rate`; decodes pause, as in
//!   vLLM's prefill-first scheduler) and each gets its first output token at the end of it.
//!   Otherwise the iteration is one decode step for the running batch, taking
//!   `base + per_seq × batch`, and gives each request its next token. A request with `n`
//!   output tokens therefore needs one prefill and `n − 1` decode steps; alone on a replica
//!   it finishes `prefill + (n − 1) × step(1)` after it starts.
//!
//! Worked example: prefill at 10,000 tokens/s, steps of 20 ms + 0.5 ms × batch. A lone
//! request of 1,000 input and 11 output tokens: prefill 100 ms (first token), then 10 steps
//! of 20.5 ms: done 305 ms after it started.
//!
//! Serving writes times into the request records and reports terminal outcomes; it knows
//! nothing of tenants, routing or metrics.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::engine::{Context, SimDuration, SimTime, StreamRng};
use crate::metrics::TimeIntegral;
use crate::request::{RequestId, RequestSlab};
use crate::scenario::{Deployment, ServiceModel};
use crate::simulator::Event;

/// How a request left a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed(RequestId),
    /// The queue was full when it arrived.
    Dropped(RequestId),
    /// Its client had given up by the time a replica took it.
    TimedOut(RequestId),
}

/// A stretch of decode steps with unchanged batch membership, simulated as one event.
///
/// While no request joins or leaves, every step takes the same time, so the replica can
/// jump to the step that ends the next request instead of scheduling every step. If a
/// request arrives meanwhile and this replica has a free slot, the stretch is cut short
/// at the next step boundary, where the per-step replica would have admitted it: the
/// jump changes how many events are processed, never what happens when.
#[derive(Clone, Copy, Debug)]
struct Coast {
    start: SimTime,
    step: SimDuration,
    /// Steps until the replica's pending event.
    steps: u64,
}

struct Replica {
    /// Requests being prefilled in the current iteration (LLM), or the one request in
    /// service (plain).
    prefilling: Vec<RequestId>,
    /// The decode stretch in progress, if the replica is decoding.
    coast: Option<Coast>,
    /// Bumped when the replica's pending event is replaced; older events are stale.
    generation: u32,
    /// A queued request is counting on this replica's next step boundary.
    woken: bool,
    /// Bumped with every new decode stretch, so wake-up candidates of an earlier stretch
    /// are recognised as stale.
    coast_stamp: u32,
    /// Decode steps this replica has run so far.
    decode_steps: u64,
    /// Requests in the decode batch, keyed by the decode step after which they finish.
    /// Every member gains a token per step, so a step touches only the requests it
    /// finishes, not the whole batch.
    decoding: BinaryHeap<Reverse<(u64, RequestId)>>,
    busy: bool,
}

/// The live state of one deployment.
pub struct DeploymentState {
    index: u32,
    service: ServiceModel,
    /// Schedule every decode step as its own event (for checking that jumps are exact).
    step_by_step: bool,
    max_batch: u32,
    max_queue: Option<u32>,
    queue: VecDeque<RequestId>,
    replicas: Vec<Replica>,
    /// Replicas with no iteration in progress, taken from the end.
    idle: Vec<u32>,
    /// Decoding replicas with a free slot, keyed by a step boundary (see `wake_one`).
    wake_candidates: BinaryHeap<Reverse<(SimTime, u32, u32)>>,
    rng: StreamRng,
    /// Requests resident on replicas (prefilling or decoding).
    resident: u32,
    /// Requests routed here that have not arrived yet.
    in_transit: u32,
    pub busy_replicas: TimeIntegral,
    pub resident_requests: TimeIntegral,
    pub queue_length: TimeIntegral,
    pub arrivals: u64,
    pub completed: u64,
    pub dropped: u64,
    pub timed_out: u64,
}

impl DeploymentState {
    pub fn new(index: usize, deployment: &Deployment, rng: StreamRng, step_by_step: bool) -> Self {
        // Batches grow on demand; a huge max_batch must not reserve memory up front.
        let slots = (deployment.max_batch as usize).min(64);
        DeploymentState {
            index: index as u32,
            service: deployment.service.clone(),
            step_by_step,
            max_batch: deployment.max_batch,
            max_queue: deployment.max_queue,
            queue: VecDeque::new(),
            replicas: (0..deployment.replicas)
                .map(|_| Replica {
                    prefilling: Vec::with_capacity(slots),
                    coast: None,
                    generation: 0,
                    woken: false,
                    coast_stamp: 0,
                    decode_steps: 0,
                    decoding: BinaryHeap::with_capacity(slots),
                    busy: false,
                })
                .collect(),
            // Reversed so that replica 0 is taken first.
            idle: (0..deployment.replicas).rev().collect(),
            wake_candidates: BinaryHeap::new(),
            rng,
            resident: 0,
            in_transit: 0,
            busy_replicas: TimeIntegral::default(),
            resident_requests: TimeIntegral::default(),
            queue_length: TimeIntegral::default(),
            arrivals: 0,
            completed: 0,
            dropped: 0,
            timed_out: 0,
        }
    }

    pub fn queued(&self) -> u32 {
        self.queue.len() as u32
    }

    /// Requests routed here and still crossing the network.
    pub fn in_transit(&self) -> u32 {
        self.in_transit
    }

    /// A router has sent a request here; it arrives after its network latency.
    pub fn dispatched(&mut self) {
        self.in_transit += 1;
    }

    pub fn running(&self) -> u32 {
        self.resident
    }

    /// A request reaches the deployment.
    pub fn arrive(
        &mut self,
        request: RequestId,
        context: &mut Context<Event>,
        requests: &mut RequestSlab,
        outcomes: &mut Vec<Outcome>,
    ) {
        let now = context.now();
        self.arrivals += 1;
        self.in_transit -= 1;
        requests.get_mut(request).arrived_at_deployment = now;
        // Requests the replicas can still take at their next iteration do not count as
        // waiting beyond capacity: only those beyond every free batch slot do.
        let capacity = self.replicas.len() * self.max_batch as usize;
        if let Some(limit) = self.max_queue
            && self.queue.len() + self.resident as usize >= capacity + limit as usize
        {
            self.dropped += 1;
            outcomes.push(Outcome::Dropped(request));
            return;
        }
        self.queue.push_back(request);
        self.queue_length.set(now, self.queue.len() as u64);
        while !self.queue.is_empty()
            && let Some(replica) = self.idle.pop()
        {
            self.start_iteration(replica, context, requests, outcomes);
        }
        if !self.queue.is_empty() {
            self.wake_one(context);
        }
    }

    /// A request waits: the decoding replica with a free slot whose next step boundary
    /// comes first will take it there, so cut its stretch short at that boundary.
    ///
    /// Candidates sit in a heap keyed by a step boundary; a boundary that has passed is
    /// moved to the replica's next one before it is compared, so the top is always the
    /// earliest boundary at or after now (ties to the lower replica), without a scan of
    /// every replica. Entries of replicas whose stretch ended or changed are dropped as
    /// they surface.
    fn wake_one(&mut self, context: &mut Context<Event>) {
        let now = context.now();
        let chosen = loop {
            let Some(&Reverse((boundary, index, stamp))) = self.wake_candidates.peek() else {
                return;
            };
            let replica = &self.replicas[index as usize];
            let valid = replica.coast_stamp == stamp
                && !replica.woken
                && replica.decoding.len() < self.max_batch as usize;
            let coast = match replica.coast {
                Some(coast) if valid => coast,
                _ => {
                    self.wake_candidates.pop();
                    continue;
                }
            };
            self.wake_candidates.pop();
            if boundary < now {
                // The first boundary at or after now, at least one step in, at most the
                // stretch's planned end.
                let elapsed = now.saturating_since(coast.start).as_nanos();
                let steps = elapsed
                    .div_ceil(coast.step.as_nanos().max(1))
                    .max(1)
                    .min(coast.steps);
                let next = coast.start + coast.step.saturating_mul(steps);
                self.wake_candidates.push(Reverse((next, index, stamp)));
                continue;
            }
            break (boundary, index, coast);
        };
        let (boundary, index, coast) = chosen;
        let steps =
            (boundary.saturating_since(coast.start).as_nanos()) / coast.step.as_nanos().max(1);
        let replica = &mut self.replicas[index as usize];
        replica.woken = true;
        if steps < coast.steps {
            let coast = replica
                .coast
                .as_mut()
                .expect("chosen among decoding replicas");
            coast.steps = steps;
            replica.generation = replica.generation.wrapping_add(1);
            context.schedule_at(
                boundary,
                Event::ReplicaDone {
                    deployment: self.index,
                    replica: index,
                    generation: replica.generation,
                },
            );
        }
    }

    /// A replica's service (plain) or iteration (LLM) ends now.
    pub fn replica_done(
        &mut self,
        replica: u32,
        generation: u32,
        context: &mut Context<Event>,
        requests: &mut RequestSlab,
        outcomes: &mut Vec<Outcome>,
    ) {
        let now = context.now();
        let state = &mut self.replicas[replica as usize];
        if generation != state.generation {
            return; // replaced by an earlier wake-up
        }
        state.woken = false;
        // Requests leaving the replica, and how many of them completed.
        let mut finished = 0u32;
        let mut completed = 0u32;
        if !state.prefilling.is_empty() {
            // Plain service, or an LLM prefill: every member gets its first token.
            for &id in &state.prefilling {
                let record = requests.get_mut(id);
                record.tokens_done = 1;
                record.first_token_at = now;
                record.last_token_at = now;
                if now + record.return_latency > record.deadline {
                    // The client gave up before this first token could reach it.
                    self.timed_out += 1;
                    outcomes.push(Outcome::TimedOut(id));
                    finished += 1;
                    continue;
                }
                let done =
                    matches!(self.service, ServiceModel::Plain(_)) || record.output_tokens <= 1;
                if done {
                    outcomes.push(Outcome::Completed(id));
                    finished += 1;
                    completed += 1;
                } else {
                    let last_step = state.decode_steps + record.output_tokens as u64 - 1;
                    state.decoding.push(Reverse((last_step, id)));
                }
            }
            state.prefilling.clear();
        } else {
            // Decode steps: every member gets a token per step; those on their last leave.
            let coast = state
                .coast
                .take()
                .expect("a decoding replica has a stretch");
            state.decode_steps += coast.steps;
            while let Some(&Reverse((last_step, id))) = state.decoding.peek() {
                if last_step > state.decode_steps {
                    break;
                }
                state.decoding.pop();
                let record = requests.get_mut(id);
                record.tokens_done = record.output_tokens;
                record.last_token_at = now;
                outcomes.push(Outcome::Completed(id));
                finished += 1;
                completed += 1;
            }
        }
        self.completed += completed as u64;
        self.resident -= finished;
        self.resident_requests.set(now, self.resident as u64);
        self.start_iteration(replica, context, requests, outcomes);
    }

    /// Admits waiting requests to `replica` and starts its next iteration, or marks it idle.
    fn start_iteration(
        &mut self,
        replica: u32,
        context: &mut Context<Event>,
        requests: &mut RequestSlab,
        outcomes: &mut Vec<Outcome>,
    ) {
        let now = context.now();
        let state = &mut self.replicas[replica as usize];
        let mut admitted_tokens: u64 = 0;
        let free_slots = self.max_batch as usize - state.decoding.len();
        while state.prefilling.len() < free_slots {
            let Some(id) = self.queue.pop_front() else {
                break;
            };
            let record = requests.get_mut(id);
            if now >= record.deadline {
                self.timed_out += 1;
                outcomes.push(Outcome::TimedOut(id));
                continue;
            }
            record.service_start = now;
            admitted_tokens += record.input_tokens as u64;
            state.prefilling.push(id);
        }
        self.queue_length.set(now, self.queue.len() as u64);
        self.resident += state.prefilling.len() as u32;
        self.resident_requests.set(now, self.resident as u64);

        let duration = match &self.service {
            _ if state.prefilling.is_empty() && state.decoding.is_empty() => None,
            ServiceModel::Plain(distribution) => Some(distribution.sample(&mut self.rng)),
            ServiceModel::Llm(profile) if !state.prefilling.is_empty() => {
                Some(profile.prefill_time(admitted_tokens))
            }
            ServiceModel::Llm(profile) => {
                // Membership is fixed until the next request finishes or one is admitted
                // (wake_one cuts the stretch short for that).
                let step = profile.decode_step(state.decoding.len() as u32);
                let Reverse((next_last_step, _)) = *state.decoding.peek().expect("decoding");
                let steps = if self.step_by_step {
                    1
                } else {
                    next_last_step - state.decode_steps
                };
                state.coast = Some(Coast {
                    start: now,
                    step,
                    steps,
                });
                state.coast_stamp = state.coast_stamp.wrapping_add(1);
                if state.decoding.len() < self.max_batch as usize {
                    self.wake_candidates
                        .push(Reverse((now + step, replica, state.coast_stamp)));
                }
                Some(step.saturating_mul(steps))
            }
        };
        match duration {
            Some(duration) => {
                if !state.busy {
                    state.busy = true;
                    self.busy_replicas.set(now, self.busy_replicas.level() + 1);
                }
                context.schedule_in(
                    duration,
                    Event::ReplicaDone {
                        deployment: self.index,
                        replica,
                        generation: state.generation,
                    },
                );
            }
            None => {
                if state.busy {
                    state.busy = false;
                    self.busy_replicas.set(now, self.busy_replicas.level() - 1);
                }
                self.idle.push(replica);
            }
        }
        // Stretches that ended without a wake-up leave stale candidates; keep the heap
        // bounded by the number of replicas.
        if self.wake_candidates.len() > 4 * self.replicas.len() + 64 {
            let replicas = &self.replicas;
            self.wake_candidates.retain(|&Reverse((_, index, stamp))| {
                let candidate = &replicas[index as usize];
                candidate.coast_stamp == stamp && candidate.coast.is_some() && !candidate.woken
            });
        }
    }

    /// Freezes the time integrals at `now` (the end of the run).
    pub fn settle(&mut self, now: SimTime) {
        self.busy_replicas.set(now, self.busy_replicas.level());
        self.resident_requests
            .set(now, self.resident_requests.level());
        self.queue_length.set(now, self.queue_length.level());
    }
}
