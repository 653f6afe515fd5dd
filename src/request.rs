//! Requests in flight, kept in a slab: a vector of records reused through a free list, so
//! that memory follows what is in flight, not how many requests the run has seen, and a
//! request's id is an index.

use crate::engine::{SimDuration, SimTime};

pub type RequestId = u32;

/// Where a request goes, shared by every request that takes the same way: numbered when
/// the simulator is built, one per (tenant, ingress, model, deployment, path) a router may
/// choose, so that a request's record holds one number for all of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Route {
    pub tenant: u32,
    pub deployment: u32,
    /// How long the tenant's clients wait for a first token (`None`: for ever).
    pub timeout: Option<SimDuration>,
}

/// Everything the simulator tracks about one request while it is alive: one cache line.
///
/// Serving touches a request's record at a handful of events far apart in time (arrival at
/// the deployment, admission, first token, last token), so each touch is a likely cache
/// miss; one aligned line per record instead of 104 bytes over two or three made the
/// bench-day peak ~3% quicker (PGO build, side by side). What can be worked out is not
/// stored: the route gives the tenant, the deployment and the deadline; arrival at the
/// deployment is `created + forward_latency`; the last token of a completed request is
/// produced when it completes.
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
pub struct Request {
    /// The way it travels: an index into the slab's (and the simulator's) routes.
    pub route: u32,
    pub input_tokens: u32,
    pub output_tokens: u32,
    /// Output tokens produced so far.
    pub tokens_done: u32,
    /// Prompt tokens prefilled so far in the current (possibly chunked) prefill. After a
    /// preemption the prompt to recompute is the input plus the tokens already produced.
    pub prefill_done: u32,
    /// Order of first admission at its deployment (wrapping): the newest is preempted
    /// first. 32 bits keep the record small; residents of one replica are never 2³²
    /// admissions apart.
    pub admission: u32,
    /// When it left the tenant's ingress.
    pub created: SimTime,
    pub forward_latency: SimDuration,
    pub return_latency: SimDuration,
    /// When it was first admitted to a batch.
    pub service_start: SimTime,
    pub first_token_at: SimTime,
}

const _: () = assert!(std::mem::size_of::<Request>() == 64);

impl Request {
    /// When it reached its deployment.
    pub fn arrived_at_deployment(&self) -> SimTime {
        self.created + self.forward_latency
    }
}

/// The records of requests in flight, and the routes they take.
pub struct RequestSlab {
    records: Vec<Request>,
    free: Vec<RequestId>,
    routes: Vec<Route>,
    /// The shortest timeout of any route, for `earliest_deadline`. `None`: no route has
    /// one, so no client ever gives up, and `deadline` reads neither the record nor its
    /// route.
    shortest_timeout: Option<SimDuration>,
    /// Whether each record is in use, to catch a request freed twice (debug builds only).
    #[cfg(debug_assertions)]
    in_use: Vec<bool>,
}

impl RequestSlab {
    pub fn new(routes: Vec<Route>) -> Self {
        RequestSlab {
            records: Vec::new(),
            free: Vec::new(),
            shortest_timeout: routes.iter().filter_map(|route| route.timeout).min(),
            routes,
            #[cfg(debug_assertions)]
            in_use: Vec::new(),
        }
    }

    pub fn insert(&mut self, request: Request) -> RequestId {
        debug_assert!(
            (request.route as usize) < self.routes.len(),
            "unknown route"
        );
        let id = match self.free.pop() {
            Some(id) => {
                self.records[id as usize] = request;
                id
            }
            None => {
                self.records.push(request);
                (self.records.len() - 1) as RequestId
            }
        };
        #[cfg(debug_assertions)]
        {
            self.in_use.resize(self.records.len(), false);
            self.in_use[id as usize] = true;
        }
        id
    }

    /// Asks the CPU to bring request `id`'s record into cache (a hint; no effect on
    /// results, nothing on other architectures).
    #[inline]
    pub fn prefetch(&self, id: RequestId) {
        if let Some(record) = self.records.get(id as usize) {
            crate::hint::prefetch(record as *const Request);
        }
    }

    pub fn remove(&mut self, id: RequestId) {
        #[cfg(debug_assertions)]
        {
            assert!(self.in_use[id as usize], "request {id} freed twice");
            self.in_use[id as usize] = false;
        }
        self.free.push(id);
    }

    pub fn get(&self, id: RequestId) -> &Request {
        &self.records[id as usize]
    }

    pub fn get_mut(&mut self, id: RequestId) -> &mut Request {
        &mut self.records[id as usize]
    }

    /// Every route, by number.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route `request` takes.
    #[inline]
    pub fn route_of(&self, request: &Request) -> &Route {
        &self.routes[request.route as usize]
    }

    /// When request `id`'s client gives up waiting for a first token (`SimTime::MAX`:
    /// never).
    #[inline]
    pub fn deadline(&self, id: RequestId) -> SimTime {
        if self.shortest_timeout.is_none() {
            return SimTime::MAX;
        }
        let record = self.get(id);
        match self.route_of(record).timeout {
            Some(timeout) => record.created + timeout,
            None => SimTime::MAX,
        }
    }

    /// Whether request `id`'s client has given up by `time` (its deadline is at or
    /// before `time`).
    #[inline]
    pub fn gave_up_by(&self, id: RequestId, time: SimTime) -> bool {
        time >= self.earliest_deadline(id) && time >= self.deadline(id)
    }

    /// Whether request `id`'s client gives up before `time` (its deadline is before
    /// `time`): before an answer reaching it at `time` could.
    #[inline]
    pub fn gives_up_before(&self, id: RequestId, time: SimTime) -> bool {
        time > self.earliest_deadline(id) && time > self.deadline(id)
    }

    /// A time no later than request `id`'s `deadline`, from its record alone: its creation
    /// plus the shortest timeout of any route (`SimTime::MAX`: no route has one). Clients
    /// wait seconds and requests are admitted within milliseconds, so comparing with this
    /// first settles almost every "has its client given up?" without reading the route:
    /// ~1% of the bench-day's time (PGO build, side by side).
    #[inline]
    fn earliest_deadline(&self, id: RequestId) -> SimTime {
        match self.shortest_timeout {
            Some(timeout) => self.get(id).created + timeout,
            None => SimTime::MAX,
        }
    }

    pub fn live_count(&self) -> usize {
        self.records.len() - self.free.len()
    }

    /// The most records ever held at once.
    pub fn capacity_used(&self) -> usize {
        self.records.len()
    }

    /// The requests in flight, by id (a pass over every record: for the end of a run).
    pub fn live_requests(&self) -> impl Iterator<Item = (RequestId, &Request)> {
        let mut free = vec![false; self.records.len()];
        for &id in &self.free {
            free[id as usize] = true;
        }
        self.records
            .iter()
            .enumerate()
            .filter(move |&(id, _)| !free[id])
            .map(|(id, request)| (id as RequestId, request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Vec<Route> {
        vec![
            Route {
                tenant: 0,
                deployment: 3,
                timeout: None,
            },
            Route {
                tenant: 9,
                deployment: 1,
                timeout: Some(SimDuration::from_millis(250)),
            },
        ]
    }

    #[test]
    fn freed_slots_are_reused() {
        let mut slab = RequestSlab::new(routes());
        let a = slab.insert(Request::default());
        let b = slab.insert(Request::default());
        let d = slab.insert(Request::default());
        slab.remove(a);
        let c = slab.insert(Request {
            route: 1,
            ..Request::default()
        });
        assert_eq!(c, a);
        assert_eq!(slab.route_of(slab.get(c)).tenant, 9);
        slab.remove(d);
        assert_eq!((slab.live_count(), slab.capacity_used()), (2, 3));
        let live: Vec<RequestId> = slab.live_requests().map(|(id, _)| id).collect();
        assert_eq!(live, vec![a, b], "live ids (expected [{a}, {b}])");
    }

    #[test]
    fn deadlines_and_arrival_are_worked_out_from_the_record() {
        let mut slab = RequestSlab::new(routes());
        let created = SimTime::from_nanos(1_000_000_000);
        let request = Request {
            created,
            forward_latency: SimDuration::from_millis(70),
            ..Request::default()
        };
        let patient = slab.insert(request);
        let hasty = slab.insert(Request {
            route: 1,
            ..request
        });
        assert_eq!(slab.deadline(patient), SimTime::MAX);
        assert_eq!(slab.deadline(hasty), SimTime::from_nanos(1_250_000_000));
        // The shortest timeout (250 ms) bounds every deadline from below, the patient
        // client's too; with no timeout anywhere there is no bound.
        for id in [patient, hasty] {
            assert_eq!(
                slab.earliest_deadline(id),
                SimTime::from_nanos(1_250_000_000)
            );
        }
        let mut patient_only = RequestSlab::new(routes()[..1].to_vec());
        let id = patient_only.insert(request);
        assert_eq!(patient_only.earliest_deadline(id), SimTime::MAX);
        // Both questions at, just before and just after the hasty deadline; the patient
        // client never gives up.
        let at = SimTime::from_nanos(1_250_000_000);
        let before = SimTime::from_nanos(1_249_999_999);
        let after = SimTime::from_nanos(1_250_000_001);
        let answers = [before, at, after].map(|time| {
            (
                slab.gave_up_by(hasty, time),
                slab.gives_up_before(hasty, time),
            )
        });
        assert_eq!(answers, [(false, false), (true, false), (true, true)]);
        for time in [at, after] {
            assert!(!slab.gave_up_by(patient, time) && !slab.gives_up_before(patient, time));
        }
        assert_eq!(
            slab.get(hasty).arrived_at_deployment(),
            SimTime::from_nanos(1_070_000_000)
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "freed twice")]
    fn a_request_freed_twice_is_caught() {
        let mut slab = RequestSlab::new(routes());
        let id = slab.insert(Request::default());
        slab.remove(id);
        slab.remove(id);
    }
}
