//! Serving: a deployment's replicas and its one shared FIFO admission queue.
//!
//! Two service models:
//!
//! - **Plain** — each replica serves one request at a time for a sampled service time.
//!   With exponential service and Poisson arrivals a deployment of `c` replicas is exactly
//!   an M/M/c station, which is how the engine is checked against queueing theory.
//! - **LLM** — continuous batching, iteration by iteration, timed by a performance
//!   [profile](crate::profile). At the end of every iteration a replica takes waiting
//!   requests from the queue head while it has a free batch slot (`max_batch`) and KV-cache
//!   room for the request's prompt and first token. What the next iteration does depends
//!   on the deployment's batching:
//!   - *prefill-first* (default; vLLM's original scheduler): if it admitted any request,
//!     the iteration prefills the admitted prompts whole, decodes paused, and each gets
//!     its first output token at its end; otherwise it is one decode step for the running
//!     batch, `step(batch)` long, giving each request its next token.
//!   - *chunked* (Sarathi-Serve, vLLM's chunked prefill): every iteration carries one
//!     decode token per running request plus prompt chunks, oldest first, up to the token
//!     budget; it takes `step(batch) + prefill(chunks)` less the prefill curve's fixed base
//!     (paid once per iteration). A prompt finished in an iteration gets its first token at
//!     the iteration's end. Admission leaves cache room for the batch's decode tokens of
//!     the admitting iteration.
//!
//!   A request with `n` output tokens therefore needs its prefill and `n − 1` decode steps;
//!   alone on a replica it finishes `prefill + (n − 1) × step(1)` after it starts.
//!
//! **KV cache.** A resident request holds `input + tokens produced` tokens of the replica's
//! KV capacity (`kv_cache_tokens`): `input + 1` once prefilled, one more per decode step.
//! Admission needs room for `input + 1` (the head of the queue blocks those behind it, as
//! in vLLM's FCFS scheduler). Before a decode step, if the running batch would outgrow the
//! cache, the newest admitted request is preempted — its cache freed, itself put back at the
//! head of the queue — until the step fits; it is later recomputed, prefilling its prompt
//! plus the tokens it had produced (vLLM's recompute preemption), and it keeps the tokens
//! its client already received. A request that could not fit alone (input + output above
//! the capacity) is dropped on arrival. An unlimited cache (no capacity given) never
//! blocks or preempts.
//!
//! Worked example: prefill at 10,000 tokens/s, steps of 20 ms + 0.5 ms × batch. A lone
//! request of 1,000 input and 11 output tokens: prefill 100 ms (first token), then 10 steps
//! of 20.5 ms: done 305 ms after it started. With a KV capacity of 1,005 tokens it holds
//! 1,001 tokens after its prefill and 1,011 at the end: it is dropped on arrival.
//!
//! **Jumps.** While a batch's membership is unchanged its decode steps are alike, so a
//! replica schedules one event at the step that ends its next request, or the last step
//! before its cache would overflow, instead of one per step (see `Coast`). A prefill-first
//! prefill whose end changes nothing but the batch is settled when it starts, so admitting
//! a request costs one event, not two (see `fold_prefill`). A request that arrives while
//! the replica already woken for the queue will take it wakes no other (see
//! `woken_takes_queue`). The results are the same as with one event per step;
//! `RunOptions::step_by_step` checks that.
//!
//! Serving writes times into the request records and reports terminal outcomes; it knows
//! nothing of tenants, routing or metrics.

use std::collections::VecDeque;

use crate::distribution::TimeDistribution;
use crate::engine::{Context, SimDuration, SimTime, StreamRng};
use crate::metrics::TimeIntegral;
use crate::profile::PrefillWork;
use crate::request::{RequestId, RequestSlab};
use crate::scenario::{Batching, Deployment, ServiceModel};
use crate::simulator::Event;
use decode_batch::DecodeBatch;
use wake::WakeCandidates;

/// No request (in `next_records`): beyond every slab index, so a prefetch of it asks for
/// nothing.
const NO_REQUEST: RequestId = RequestId::MAX;

mod decode_batch;
mod wake;

/// How a request left a deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed(RequestId),
    /// The queue was full when it arrived, or it could never fit in a replica's KV cache.
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
///
/// After a folded prefill (`fold_prefill`) the stretch starts at the prefill's end, which
/// may still be ahead of the clock; that start is then a boundary too (the replica admits
/// there), the first one a waiting request can wake.
#[derive(Clone, Copy, Debug)]
struct Coast {
    start: SimTime,
    step: SimDuration,
    /// Steps until the replica's pending event.
    steps: u64,
}

/// The replica last woken for a waiting request, until its boundary comes (see
/// `DeploymentState::arrive`).
#[derive(Clone, Copy, Debug)]
struct Woken {
    /// Where it acts, as (boundary, replica): the order in which replicas act at a
    /// boundary and in which wake-up candidates rank.
    key: (SimTime, u32),
    /// Batch slots it has free: its batch does not change before its boundary.
    free_slots: u32,
    /// The least key of the candidates that have joined since it was woken.
    earliest_joined: (SimTime, u32),
}

struct Replica {
    /// Requests admitted whose prompt is not prefilled yet, oldest first (LLM), or the one
    /// request in service (plain).
    prefilling: Vec<RequestId>,
    /// The decode stretch in progress, if the replica is decoding.
    coast: Option<Coast>,
    /// Decode steps this replica has run so far.
    decode_steps: u64,
    /// Requests in the decode batch, keyed by the decode step after which they finish.
    /// Every member gains a token per step, so a step touches only the requests it
    /// finishes, not the whole batch.
    decoding: DecodeBatch,
    /// KV-cache tokens held by resident requests.
    kv_used: u64,
    busy: bool,
}

/// The live state of one deployment.
pub struct DeploymentState {
    index: u32,
    /// The engine timer of replica 0 (see `new`).
    first_timer: u32,
    service: ServiceModel,
    /// Schedule every decode step as its own event (for checking that jumps are exact).
    step_by_step: bool,
    max_batch: u32,
    max_queue: Option<u32>,
    /// KV-cache capacity per replica in tokens (`u64::MAX`: unlimited).
    kv_capacity: u64,
    /// LLM serving holds KV cache; a plain station does not.
    kv_tracked: bool,
    /// First admissions so far, stamped on requests so the newest can be preempted.
    admissions: u32,
    queue: VecDeque<RequestId>,
    replicas: Vec<Replica>,
    /// Per replica, the requests its pending event will read first (the next to finish
    /// decoding and the first prompt prefilling; `NO_REQUEST` for none), noted when its
    /// timer is set. Only the hint before the event reads them: from this small array
    /// they cost one load, where reading them from the replica took a chain of three
    /// (replica, then its buffers, then the ids) that stalled the hint (~7% of the
    /// bench-day peak's samples). Changes to the batch in between make a note stale,
    /// which costs a useless prefetch, never a result.
    next_records: Vec<[RequestId; 2]>,
    /// Replicas with no iteration in progress, taken from the end.
    idle: Vec<u32>,
    /// Decoding replicas with a free slot, and their next step boundaries (see
    /// `wake_one`), kept apart from the replicas so that a query reads a few small arrays.
    wake_candidates: WakeCandidates,
    /// Whether a replica admits, at a boundary, everything waiting up to its free slots:
    /// whole-prompt prefills (no token budget) and an unlimited KV cache.
    admits_up_to_slots: bool,
    /// With `admits_up_to_slots`: the replica last woken, while its boundary is ahead.
    woken: Option<Woken>,
    rng: StreamRng,
    /// Requests resident on replicas (prefilling or decoding).
    resident: u32,
    pub busy_replicas: TimeIntegral,
    pub resident_requests: TimeIntegral,
    pub queue_length: TimeIntegral,
    pub arrivals: u64,
    pub completed: u64,
    pub dropped: u64,
    pub timed_out: u64,
    /// Requests preempted to free KV cache (each counted every time it happens).
    pub preemptions: u64,
    /// Output tokens of the requests completed here.
    pub output_tokens: u64,
    /// Dropped on arrival because input + output tokens exceed a replica's KV cache.
    pub oversized: u64,
    /// Most KV-cache tokens any replica held at once.
    pub kv_peak_tokens: u64,
}

impl DeploymentState {
    /// `first_timer`: the engine timer of replica 0; replica `r` uses `first_timer + r` for
    /// its one pending event (its next completion or iteration boundary).
    pub fn new(
        index: usize,
        first_timer: u32,
        deployment: &Deployment,
        rng: StreamRng,
        step_by_step: bool,
    ) -> Self {
        // Batches grow on demand; a huge max_batch must not reserve memory up front.
        let slots = (deployment.max_batch as usize).min(64);
        DeploymentState {
            index: index as u32,
            first_timer,
            service: deployment.service.clone(),
            step_by_step,
            max_batch: deployment.max_batch,
            max_queue: deployment.max_queue,
            kv_capacity: match &deployment.service {
                ServiceModel::Llm(llm) => llm.kv_cache_tokens.unwrap_or(u64::MAX),
                ServiceModel::Plain(_) => u64::MAX,
            },
            admissions: 0,
            kv_tracked: matches!(deployment.service, ServiceModel::Llm(_)),
            queue: VecDeque::new(),
            replicas: (0..deployment.replicas)
                .map(|_| Replica {
                    prefilling: Vec::with_capacity(slots),
                    coast: None,
                    decode_steps: 0,
                    decoding: DecodeBatch::with_capacity(slots),
                    kv_used: 0,
                    busy: false,
                })
                .collect(),
            next_records: vec![[NO_REQUEST; 2]; deployment.replicas as usize],
            // Reversed so that replica 0 is taken first.
            idle: (0..deployment.replicas).rev().collect(),
            wake_candidates: WakeCandidates::new(deployment.replicas as usize),
            admits_up_to_slots: match &deployment.service {
                ServiceModel::Llm(llm) => {
                    llm.batching == Batching::PrefillFirst && llm.kv_cache_tokens.is_none()
                }
                ServiceModel::Plain(_) => false,
            },
            woken: None,
            rng,
            resident: 0,
            busy_replicas: TimeIntegral::default(),
            resident_requests: TimeIntegral::default(),
            queue_length: TimeIntegral::default(),
            arrivals: 0,
            completed: 0,
            dropped: 0,
            timed_out: 0,
            preemptions: 0,
            output_tokens: 0,
            oversized: 0,
            kv_peak_tokens: 0,
        }
    }

    /// KV-cache capacity per replica in tokens, if limited.
    pub fn kv_capacity(&self) -> Option<u64> {
        (self.kv_capacity != u64::MAX).then_some(self.kv_capacity)
    }

    pub fn queued(&self) -> u32 {
        self.queue.len() as u32
    }

    /// Asks the CPU for the records `replica`'s next event will touch first: the request
    /// that finishes decoding soonest and the first prompt being prefilled, as noted when
    /// its timer was set, and the replica's own lines (a hint).
    #[inline]
    pub fn prefetch(&self, replica: u32, requests: &RequestSlab) {
        if let Some(&[finisher, first_prompt]) = self.next_records.get(replica as usize) {
            // No-request ids are past the slab's end: nothing is asked for.
            requests.prefetch(finisher);
            requests.prefetch(first_prompt);
            if let Some(state) = self.replicas.get(replica as usize) {
                crate::hint::prefetch_all(state);
            }
        }
    }

    /// Notes the requests `replica`'s next event will read first (see `next_records`).
    #[inline]
    fn note_next_records(&mut self, replica: u32) {
        let state = &self.replicas[replica as usize];
        let finisher = state.decoding.peek().map_or(NO_REQUEST, |(_, id)| id);
        let first_prompt = state.prefilling.first().copied().unwrap_or(NO_REQUEST);
        self.next_records[replica as usize] = [finisher, first_prompt];
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
        // With an unlimited cache every request fits: its record is not read here.
        let oversized = self.kv_capacity != u64::MAX && {
            let record = requests.get(request);
            record.input_tokens as u64 + record.output_tokens as u64 > self.kv_capacity
        };
        if oversized {
            // It could never finish even alone on a replica.
            self.dropped += 1;
            self.oversized += 1;
            outcomes.push(Outcome::Dropped(request));
            return;
        }
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
        // A plain replica takes the queue's head only when its service ends: it has no
        // step boundary to be woken at (it never joins the wake-up candidates).
        let has_step_boundaries = matches!(self.service, ServiceModel::Llm(_));
        if has_step_boundaries && !self.queue.is_empty() && !self.woken_takes_queue() {
            self.wake_one(context, requests);
        }
    }

    /// Whether the replica last woken will take everything now waiting, so that no other
    /// needs waking: it acts before every other candidate's next boundary and has a free
    /// slot for each waiting request.
    ///
    /// It was the earliest candidate when it was woken, and a candidate's next boundary
    /// only moves later as time passes, so only candidates that joined since
    /// could come before it. Its batch does not change before its boundary, where it
    /// admits the whole queue up to its free slots (`admits_up_to_slots`). Each later
    /// arrival asks again. Waking a second replica here would only give it an event at
    /// which nothing is left to admit: at the bench-day peak one woken replica in five
    /// found nothing there before this check.
    fn woken_takes_queue(&self) -> bool {
        self.woken.is_some_and(|woken| {
            self.queue.len() <= woken.free_slots as usize && woken.key < woken.earliest_joined
        })
    }

    /// A request waits: the decoding replica with a free slot whose next step boundary
    /// comes first will take it there, so cut its stretch short at that boundary.
    ///
    /// Candidates are rows of next step boundaries (`wake::WakeCandidates`), read in
    /// replica order: a boundary that has passed is moved to the replica's next one before
    /// it is compared, and the earliest at or after now wins (ties to the lower replica).
    ///
    /// With a finite KV cache, a replica that could not take the head of the queue at its
    /// boundary (the head does not fit, or the batch must preempt there) is passed over in
    /// this call: its cache only fills until its batch changes, which is an event of its
    /// own. A head whose client may give up is not judged this way (after the deadline the
    /// replica would skip it and look at the next request), so such heads wake every
    /// boundary in turn, as one event per step would.
    fn wake_one(&mut self, context: &mut Context<Event>, requests: &RequestSlab) {
        let now = context.now();
        // The head's KV need, if it must be met at the boundary for the replica to admit.
        let head_need = match self.queue.front() {
            Some(&head) if self.kv_capacity != u64::MAX => {
                let record = requests.get(head);
                let patient = record.tokens_done > 0 || requests.deadline(head) == SimTime::MAX;
                patient.then_some(record.input_tokens as u64 + record.tokens_done as u64 + 1)
            }
            _ => None,
        };
        let DeploymentState {
            wake_candidates,
            replicas,
            service,
            kv_capacity,
            ..
        } = self;
        let chunked = matches!(service, ServiceModel::Llm(llm) if matches!(llm.batching, Batching::Chunked { .. }));
        let admits = |boundary: SimTime, index: u32| {
            let Some(need) = head_need else {
                return true;
            };
            let replica = &replicas[index as usize];
            let coast = replica.coast.expect("a wake-up candidate is decoding");
            let steps_in =
                boundary.saturating_since(coast.start).as_nanos() / coast.step.as_nanos().max(1);
            let batch = replica.decoding.len() as u64;
            let kv_at_boundary = replica.kv_used + steps_in * batch;
            // Chunked prefill decodes the batch in the admitting iteration too.
            let growth = if chunked { batch } else { 0 };
            kv_at_boundary + batch <= *kv_capacity && kv_at_boundary + growth + need <= *kv_capacity
        };
        let Some((boundary, index)) = wake_candidates.take_earliest(now, admits) else {
            return;
        };
        let coast = self.replicas[index as usize]
            .coast
            .expect("a wake-up candidate is decoding");
        let steps =
            (boundary.saturating_since(coast.start).as_nanos()) / coast.step.as_nanos().max(1);
        let replica = &mut self.replicas[index as usize];
        if self.admits_up_to_slots {
            let batch = replica.decoding.len() + replica.prefilling.len();
            self.woken = Some(Woken {
                key: (boundary, index),
                free_slots: self.max_batch - batch as u32,
                earliest_joined: (SimTime::MAX, u32::MAX),
            });
        }
        if steps < coast.steps {
            let coast = replica
                .coast
                .as_mut()
                .expect("chosen among decoding replicas");
            coast.steps = steps;
            self.note_next_records(index);
            // Moves the replica's pending event earlier, in place.
            context.set_timer(
                self.first_timer + index,
                boundary,
                Event::ReplicaDone {
                    deployment: self.index,
                    replica: index,
                },
            );
        }
    }

    /// A replica's service (plain) or iteration (LLM) ends now.
    pub fn replica_done(
        &mut self,
        replica: u32,
        context: &mut Context<Event>,
        requests: &mut RequestSlab,
        outcomes: &mut Vec<Outcome>,
    ) {
        let now = context.now();
        self.wake_candidates.leave(replica);
        if self.woken.is_some_and(|woken| woken.key.1 == replica) {
            self.woken = None; // its boundary has come
        }
        let state = &mut self.replicas[replica as usize];
        // Requests leaving the replica, and how many of them completed.
        let mut finished = 0u32;
        let mut completed = 0u32;
        if let ServiceModel::Plain(_) = self.service {
            for &id in &state.prefilling {
                let gave_up = requests.gives_up_before(id, now + requests.get(id).return_latency);
                let record = requests.get_mut(id);
                record.tokens_done = 1;
                record.first_token_at = now;
                finished += 1;
                if gave_up {
                    // The client gave up before the response could reach it.
                    self.timed_out += 1;
                    outcomes.push(Outcome::TimedOut(id));
                } else {
                    self.output_tokens += record.output_tokens as u64;
                    outcomes.push(Outcome::Completed(id));
                    completed += 1;
                }
            }
            state.prefilling.clear();
        } else {
            let Replica {
                prefilling,
                coast,
                decode_steps,
                decoding,
                kv_used,
                ..
            } = state;
            // Decode steps: every member gets a token per step; those on their last leave.
            if let Some(coast) = coast.take() {
                *decode_steps += coast.steps;
                *kv_used += coast.steps * decoding.len() as u64;
                self.kv_peak_tokens = self.kv_peak_tokens.max(*kv_used);
                while let Some((last_step, id)) = decoding.peek() {
                    if last_step > *decode_steps {
                        break;
                    }
                    decoding.pop();
                    let record = requests.get_mut(id);
                    record.tokens_done = record.output_tokens;
                    *kv_used -= record.input_tokens as u64 + record.output_tokens as u64;
                    self.output_tokens += record.output_tokens as u64;
                    outcomes.push(Outcome::Completed(id));
                    finished += 1;
                    completed += 1;
                }
            }
            // Prompts prefilled in this iteration produce a token. Prefill-first finishes
            // every prompt it started; chunked prefill may leave some for later.
            let mut still_prefilling = 0;
            for position in 0..prefilling.len() {
                let id = prefilling[position];
                let record = requests.get(id);
                if record.prefill_done < record.input_tokens + record.tokens_done {
                    prefilling[still_prefilling] = id; // more chunks to go
                    still_prefilling += 1;
                    continue;
                }
                let first_token = record.tokens_done == 0;
                let gave_up =
                    first_token && requests.gives_up_before(id, now + record.return_latency);
                let record = requests.get_mut(id);
                record.tokens_done += 1;
                if first_token {
                    record.first_token_at = now;
                    if gave_up {
                        // The client gave up before this first token could reach it.
                        *kv_used -= record.input_tokens as u64 + 1;
                        self.timed_out += 1;
                        outcomes.push(Outcome::TimedOut(id));
                        finished += 1;
                        continue;
                    }
                }
                if record.tokens_done >= record.output_tokens {
                    *kv_used -= record.input_tokens as u64 + record.tokens_done as u64;
                    self.output_tokens += record.output_tokens as u64;
                    outcomes.push(Outcome::Completed(id));
                    finished += 1;
                    completed += 1;
                } else {
                    let last_step =
                        *decode_steps + (record.output_tokens - record.tokens_done) as u64;
                    decoding.push(last_step, id);
                }
            }
            prefilling.truncate(still_prefilling);
        }
        self.completed += completed as u64;
        self.resident -= finished;
        // `start_iteration` records the resident count at this same instant.
        self.start_iteration(replica, context, requests, outcomes);
    }

    /// Takes the newest admitted request off `replica`'s decode batch and puts it back at
    /// the head of the queue, its KV cache freed; it keeps the tokens it has produced.
    fn preempt_newest(&mut self, replica: u32, requests: &mut RequestSlab) {
        let state = &mut self.replicas[replica as usize];
        let age = |id: RequestId| self.admissions.wrapping_sub(requests.get(id).admission);
        let newest_decoding = state
            .decoding
            .iter()
            .map(|(last_step, id)| (age(id), id, Some(last_step)))
            .min();
        // With chunked prefill a request still being prefilled may be the newest.
        let newest_prefilling = state.prefilling.iter().map(|&id| (age(id), id, None)).min();
        let Some((_, id, last_step)) = newest_decoding.into_iter().chain(newest_prefilling).min()
        else {
            return;
        };
        let record = requests.get_mut(id);
        match last_step {
            Some(last_step) => {
                state.decoding.remove(id);
                record.tokens_done = record.output_tokens - (last_step - state.decode_steps) as u32;
                state.kv_used -= record.input_tokens as u64 + record.tokens_done as u64;
            }
            None => {
                // Its reservation for the prompt and its next token is freed.
                state.prefilling.retain(|&member| member != id);
                state.kv_used -= record.input_tokens as u64 + record.tokens_done as u64 + 1;
            }
        }
        record.prefill_done = 0;
        self.queue.push_front(id);
        self.resident -= 1;
        self.preemptions += 1;
    }

    /// Admits waiting requests to `replica` and starts its next iteration, or marks it idle.
    fn start_iteration(
        &mut self,
        replica: u32,
        context: &mut Context<Event>,
        requests: &mut RequestSlab,
        outcomes: &mut Vec<Outcome>,
    ) {
        if let ServiceModel::Plain(service) = &self.service {
            let service = *service;
            return self.start_service(replica, service, context, requests, outcomes);
        }
        let now = context.now();
        // The running batch's next step needs a cache slot per member: preempt until it fits.
        let mut preempted = false;
        loop {
            let state = &self.replicas[replica as usize];
            let batch = state.decoding.len() as u64;
            if batch == 0 || state.kv_used + batch <= self.kv_capacity {
                break;
            }
            self.preempt_newest(replica, requests);
            preempted = true;
        }
        let state = &mut self.replicas[replica as usize];
        let batch = state.decoding.len();
        // Prompt tokens this iteration may carry beside the batch's decode tokens.
        let mut budget = match (&self.service, preempted) {
            (ServiceModel::Llm(llm), _) => match llm.batching {
                Batching::PrefillFirst => u64::MAX,
                Batching::Chunked { token_budget } => token_budget as u64 - batch as u64,
            },
            (ServiceModel::Plain(_), _) => u64::MAX,
        };
        let decode_growth = match &self.service {
            ServiceModel::Llm(llm) if matches!(llm.batching, Batching::Chunked { .. }) => {
                batch as u64
            }
            _ => 0,
        };
        let mut work = PrefillWork::default();
        // Prompts already admitted continue first (chunked prefill only).
        for &id in &state.prefilling {
            let record = requests.get_mut(id);
            let chunk = ((record.input_tokens + record.tokens_done - record.prefill_done) as u64)
                .min(budget) as u32;
            record.prefill_done += chunk;
            work.add(chunk, record.prefill_done);
            budget -= chunk as u64;
        }
        // No admissions at a boundary that had to preempt: the cache is full.
        let mut kv_blocked = false;
        let mut admitted = false;
        let slots = if preempted {
            0
        } else {
            self.max_batch as usize - batch
        };
        while state.prefilling.len() < slots && budget > 0 {
            let Some(&id) = self.queue.front() else {
                break;
            };
            let gave_up = requests.get(id).tokens_done == 0 && requests.gave_up_by(id, now);
            let record = requests.get_mut(id);
            if gave_up {
                self.queue.pop_front();
                self.timed_out += 1;
                outcomes.push(Outcome::TimedOut(id));
                continue;
            }
            let prompt = record.input_tokens + record.tokens_done;
            // With chunked prefill the batch also decodes a token each in this iteration.
            if state.kv_used + decode_growth + prompt as u64 + 1 > self.kv_capacity {
                kv_blocked = true;
                break;
            }
            self.queue.pop_front();
            if self.kv_tracked {
                state.kv_used += prompt as u64 + 1;
            }
            if record.tokens_done == 0 {
                record.service_start = now;
                self.admissions = self.admissions.wrapping_add(1);
                record.admission = self.admissions;
            }
            let chunk = (prompt as u64).min(budget) as u32;
            record.prefill_done = chunk;
            work.add(chunk, chunk);
            budget -= chunk as u64;
            state.prefilling.push(id);
            self.resident += 1;
            admitted = true;
        }
        self.kv_peak_tokens = self.kv_peak_tokens.max(state.kv_used);
        self.queue_length.set(now, self.queue.len() as u64);
        self.resident_requests.set(now, self.resident as u64);

        let prefills_whole_prompts = !state.prefilling.is_empty()
            && matches!(&self.service, ServiceModel::Llm(llm) if llm.batching == Batching::PrefillFirst);
        let duration = match &self.service {
            _ if state.prefilling.is_empty() && state.decoding.is_empty() => None,
            ServiceModel::Plain(distribution) => Some(distribution.sample(&mut self.rng)),
            ServiceModel::Llm(llm) if !state.prefilling.is_empty() => match llm.batching {
                // Decodes pause while prompts are prefilled.
                Batching::PrefillFirst => Some(llm.profile.prefill.time(work)),
                Batching::Chunked { .. } => {
                    let prefill = llm.profile.prefill.time(work);
                    let mut duration = prefill;
                    if batch > 0 {
                        // The batch decodes one step within this mixed iteration; the fixed
                        // cost of an iteration (the prefill curve's base) is paid once.
                        let step = llm.profile.decode.step(batch as u32);
                        let shared = llm.profile.prefill.fixed_part().min(step).min(prefill);
                        duration = SimDuration::from_nanos(
                            prefill.as_nanos() + step.as_nanos() - shared.as_nanos(),
                        );
                        state.coast = Some(Coast {
                            start: now,
                            step: duration,
                            steps: 1,
                        });
                    }
                    Some(duration)
                }
            },
            ServiceModel::Llm(llm) => {
                // Membership is fixed until the next request finishes, the cache would
                // overflow, or one is admitted (wake_one cuts the stretch short for that).
                let step = llm.profile.decode.step(batch as u32);
                Some(self.start_coast(replica, now, step, now + step))
            }
        };
        // A whole-prompt prefill: fold its end into this event when nothing at that end
        // needs one of its own.
        let duration = match duration {
            Some(prefill) if prefills_whole_prompts && !self.step_by_step && !kv_blocked => Some(
                self.fold_prefill(replica, now, prefill, requests)
                    .unwrap_or(prefill),
            ),
            other => other,
        };
        self.run_or_idle(replica, duration, context);
        // This replica could not take the head of the queue (its cache is full), put a
        // preempted request there, or, with a finite cache, admitted the old head so that
        // a new one waits (which another replica may fit where the old one did not):
        // another replica's next step boundary may take it.
        let head_changed = admitted && self.kv_capacity != u64::MAX;
        if (preempted || kv_blocked || head_changed) && !self.queue.is_empty() {
            self.wake_one(context, requests);
        }
    }

    /// `start_iteration` for a plain station: the free `replica` takes the head of the
    /// queue (passing over requests whose client has given up) for a sampled service time,
    /// or becomes idle. The same state changes as the general iteration with a batch of
    /// one, no KV cache and no token budget, without walking through them: on the M/M/c
    /// scenario this runs once per request.
    fn start_service(
        &mut self,
        replica: u32,
        service: TimeDistribution,
        context: &mut Context<Event>,
        requests: &mut RequestSlab,
        outcomes: &mut Vec<Outcome>,
    ) {
        let now = context.now();
        let state = &mut self.replicas[replica as usize];
        debug_assert!(state.prefilling.is_empty() && state.decoding.is_empty());
        while let Some(id) = self.queue.pop_front() {
            // Plain requests wait only before their service, with no token produced.
            if requests.gave_up_by(id, now) {
                self.timed_out += 1;
                outcomes.push(Outcome::TimedOut(id));
                continue;
            }
            let record = requests.get_mut(id);
            record.service_start = now;
            self.admissions = self.admissions.wrapping_add(1);
            record.admission = self.admissions;
            record.prefill_done = record.input_tokens;
            state.prefilling.push(id);
            self.resident += 1;
            break;
        }
        self.queue_length.set(now, self.queue.len() as u64);
        self.resident_requests.set(now, self.resident as u64);
        let duration = if state.prefilling.is_empty() {
            None
        } else {
            Some(service.sample(&mut self.rng))
        };
        self.run_or_idle(replica, duration, context);
    }

    /// Runs `replica`'s service or iteration for `duration` on its timer, or (`None`) marks it
    /// idle, keeping the count of busy replicas.
    fn run_or_idle(
        &mut self,
        replica: u32,
        duration: Option<SimDuration>,
        context: &mut Context<Event>,
    ) {
        let now = context.now();
        let state = &mut self.replicas[replica as usize];
        match duration {
            Some(duration) => {
                if !state.busy {
                    state.busy = true;
                    self.busy_replicas.set(now, self.busy_replicas.level() + 1);
                }
                self.note_next_records(replica);
                context.set_timer(
                    self.first_timer + replica,
                    now + duration,
                    Event::ReplicaDone {
                        deployment: self.index,
                        replica,
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
    }

    /// Settles now what the end of a prefill-first prefill starting now will do, and plans
    /// the decode stretch after it; returns the time to the stretch's first pending event.
    ///
    /// At the prefill's end every prompt gets its first token and joins the decode batch,
    /// and the replica then admits whatever waits. Nothing else can change the prefill, so
    /// when no request leaves there (none finishes with its first token or has been given
    /// up on by its client), the cache needs no preemption there, and no waiting request was
    /// left behind for it, that end is simulated now: the first tokens are stamped with its
    /// time, and the replica coasts from it. The end is its first step boundary: a request
    /// arriving during the prefill wakes the replica there (`wake_one`), where the separate
    /// event would have admitted it. Otherwise (`None`) the prefill ends in its own event.
    /// This saves one event per admission; the results are identical.
    fn fold_prefill(
        &mut self,
        replica: u32,
        now: SimTime,
        prefill: SimDuration,
        requests: &mut RequestSlab,
    ) -> Option<SimDuration> {
        let ServiceModel::Llm(llm) = &self.service else {
            return None;
        };
        let state = &mut self.replicas[replica as usize];
        let end = now + prefill;
        let batch = (state.decoding.len() + state.prefilling.len()) as u64;
        if state.kv_used + batch > self.kv_capacity {
            return None; // the first step after the prefill must preempt
        }
        for &id in &state.prefilling {
            let record = requests.get(id);
            let leaves = record.tokens_done + 1 >= record.output_tokens
                || (record.tokens_done == 0
                    && requests.gives_up_before(id, end + record.return_latency));
            if leaves {
                return None;
            }
        }
        for &id in &state.prefilling {
            let record = requests.get_mut(id);
            record.tokens_done += 1;
            if record.tokens_done == 1 {
                record.first_token_at = end;
            }
            let last_step = state.decode_steps + (record.output_tokens - record.tokens_done) as u64;
            state.decoding.push(last_step, id);
        }
        state.prefilling.clear();
        let step = llm.profile.decode.step(batch as u32);
        // Its first boundary is the prefill's end itself.
        Some(prefill + self.start_coast(replica, end, step, end))
    }

    /// Starts a decode stretch of `replica`'s batch at `start`, steps of `step`: until its
    /// next request finishes or the step before its cache would overflow (one step when
    /// stepping). With a free slot the replica becomes a wake-up candidate from
    /// `first_boundary`. Returns the stretch's planned length.
    fn start_coast(
        &mut self,
        replica: u32,
        start: SimTime,
        step: SimDuration,
        first_boundary: SimTime,
    ) -> SimDuration {
        let state = &mut self.replicas[replica as usize];
        let batch = state.decoding.len() as u64;
        let (next_last_step, _) = state.decoding.peek().expect("decoding");
        let steps_to_finish = next_last_step - state.decode_steps;
        let steps_in_cache = if self.kv_capacity == u64::MAX {
            u64::MAX // unlimited: no division on every stretch
        } else {
            (self.kv_capacity - state.kv_used) / batch
        };
        let steps = if self.step_by_step {
            1
        } else {
            steps_to_finish.min(steps_in_cache)
        };
        state.coast = Some(Coast { start, step, steps });
        if batch < self.max_batch as u64 {
            self.wake_candidates.join(
                replica,
                first_boundary,
                step,
                start + step.saturating_mul(steps),
            );
            if let Some(woken) = &mut self.woken {
                woken.earliest_joined = woken.earliest_joined.min((first_boundary, replica));
            }
        }
        step.saturating_mul(steps)
    }

    /// Freezes the time integrals at `now` (the end of the run).
    pub fn settle(&mut self, now: SimTime) {
        self.busy_replicas.set(now, self.busy_replicas.level());
        self.resident_requests
            .set(now, self.resident_requests.level());
        self.queue_length.set(now, self.queue_length.level());
    }
}
