//! Requests in flight, kept in a slab: a vector of records reused through a free list, so
//! that memory follows what is in flight, not how many requests the run has seen, and a
//! request's id is an index.

use crate::engine::{SimDuration, SimTime};

pub type RequestId = u32;

/// Everything the simulator tracks about one request while it is alive.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request {
    pub tenant: u32,
    pub deployment: u32,
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
    /// The path it travels (an index into the simulator's table of route paths).
    pub path: u32,
    /// When it left the tenant's ingress.
    pub created: SimTime,
    /// When the client gives up waiting for a first token (`SimTime::MAX`: never).
    pub deadline: SimTime,
    pub forward_latency: SimDuration,
    pub return_latency: SimDuration,
    pub arrived_at_deployment: SimTime,
    pub service_start: SimTime,
    pub first_token_at: SimTime,
    pub last_token_at: SimTime,
    pub live: bool,
}

#[derive(Default)]
pub struct RequestSlab {
    records: Vec<Request>,
    free: Vec<RequestId>,
    live: usize,
}

impl RequestSlab {
    pub fn insert(&mut self, request: Request) -> RequestId {
        let request = Request {
            live: true,
            ..request
        };
        self.live += 1;
        match self.free.pop() {
            Some(id) => {
                self.records[id as usize] = request;
                id
            }
            None => {
                self.records.push(request);
                (self.records.len() - 1) as RequestId
            }
        }
    }

    /// Asks the CPU to bring request `id`'s record into cache (a hint; no effect on
    /// results, nothing on other architectures).
    #[inline]
    pub fn prefetch(&self, id: RequestId) {
        if let Some(record) = self.records.get(id as usize) {
            // The record spans two cache lines.
            let address = (record as *const Request).cast::<u8>();
            crate::hint::prefetch(address);
            crate::hint::prefetch(address.wrapping_add(64));
        }
    }

    pub fn remove(&mut self, id: RequestId) {
        let record = &mut self.records[id as usize];
        debug_assert!(record.live, "request {id} freed twice");
        record.live = false;
        self.live -= 1;
        self.free.push(id);
    }

    pub fn get(&self, id: RequestId) -> &Request {
        &self.records[id as usize]
    }

    pub fn get_mut(&mut self, id: RequestId) -> &mut Request {
        &mut self.records[id as usize]
    }

    pub fn live_count(&self) -> usize {
        self.live
    }

    /// The most records ever held at once.
    pub fn capacity_used(&self) -> usize {
        self.records.len()
    }

    pub fn live_requests(&self) -> impl Iterator<Item = &Request> {
        self.records.iter().filter(|request| request.live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_slots_are_reused() {
        let mut slab = RequestSlab::default();
        let a = slab.insert(Request::default());
        let b = slab.insert(Request::default());
        slab.remove(a);
        let c = slab.insert(Request {
            tenant: 9,
            ..Request::default()
        });
        assert_eq!(c, a);
        assert_eq!(slab.get(c).tenant, 9);
        assert_eq!((slab.live_count(), slab.capacity_used()), (2, 2));
        assert_eq!(slab.live_requests().count(), 2);
        let _ = b;
    }
}
