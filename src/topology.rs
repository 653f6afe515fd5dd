//! The network: sites and links as a petgraph graph, shortest-latency paths between sites,
//! and a cache of the path from every tenant ingress to every deployment.
//!
//! Latency is one-way and symmetric per link. Where a link gives none, it is derived from
//! the great-circle distance between its sites: `distance_km × 5 µs/km × route_factor`.
//! Worked example: Singapore (1.35, 103.82) to Hong Kong (22.32, 114.17) is 2,588 km;
//! × 5 µs × 1.35 = 17.5 ms one way, 34.9 ms round trip (Azure measures a 36 ms P50 RTT).

use petgraph::algo::astar;
use petgraph::graph::{NodeIndex, UnGraph};

use crate::engine::SimDuration;
use crate::scenario::{Link, LinkIndex, Site, SiteIndex};

const EARTH_RADIUS_KM: f64 = 6371.0;

/// Great-circle distance between two (latitude, longitude) points in degrees (haversine).
pub fn great_circle_km(from: (f64, f64), to: (f64, f64)) -> f64 {
    let (lat1, lon1) = (from.0.to_radians(), from.1.to_radians());
    let (lat2, lon2) = (to.0.to_radians(), to.1.to_radians());
    let half_chord = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * half_chord.sqrt().min(1.0).asin()
}

/// A route between two sites: the links in order and their total one-way latency
/// (without jitter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub links: Vec<LinkIndex>,
    /// The sites visited, from the start to the end, both included.
    pub sites: Vec<SiteIndex>,
    pub latency: SimDuration,
}

/// The graph of sites and the links that are up.
pub struct Topology {
    graph: UnGraph<SiteIndex, LinkIndex>,
    link_latency: Vec<SimDuration>,
}

impl Topology {
    pub fn new(sites: &[Site], links: &[Link]) -> Self {
        let mut graph = UnGraph::with_capacity(sites.len(), links.len());
        for index in 0..sites.len() {
            graph.add_node(index);
        }
        for (index, link) in links.iter().enumerate() {
            if link.up {
                graph.add_edge(
                    NodeIndex::new(link.ends.0),
                    NodeIndex::new(link.ends.1),
                    index,
                );
            }
        }
        Topology {
            graph,
            link_latency: links.iter().map(|link| link.latency).collect(),
        }
    }

    /// The lowest-latency path from `from` to `to` over links that are up; `None` if there
    /// is none. A site reaches itself with an empty path. Ties go to the path petgraph's
    /// A* finds first, which depends only on the scenario, so runs stay reproducible.
    pub fn shortest_path(&self, from: SiteIndex, to: SiteIndex) -> Option<Path> {
        let latency_of = |link: LinkIndex| self.link_latency[link];
        let (total, nodes) = astar(
            &self.graph,
            NodeIndex::new(from),
            |node| node == NodeIndex::new(to),
            // u128: a long chain of slow links cannot overflow the sum.
            |edge| latency_of(*edge.weight()).as_nanos() as u128,
            |_| 0,
        )?;
        let links = nodes
            .windows(2)
            .map(|pair| {
                // The cheapest of any parallel links between the two sites.
                self.graph
                    .edges_connecting(pair[0], pair[1])
                    .map(|edge| *edge.weight())
                    .min_by_key(|&link| (latency_of(link), link))
                    .expect("consecutive nodes of a path are joined by an edge")
            })
            .collect();
        Some(Path {
            links,
            sites: nodes.iter().map(|node| node.index()).collect(),
            latency: SimDuration::from_nanos(u64::try_from(total).unwrap_or(u64::MAX)),
        })
    }

    /// The shortest path from `from` to `to`, then, for each site in `via` in turn, the
    /// shortest path that passes through it (shortest to it, then shortest on), when that
    /// is a different path that visits no site twice. The first is the shortest overall.
    pub fn paths_via(&self, from: SiteIndex, to: SiteIndex, via: &[SiteIndex]) -> Vec<Path> {
        let Some(shortest) = self.shortest_path(from, to) else {
            return Vec::new();
        };
        let mut paths = vec![shortest];
        for &hub in via {
            let (Some(first), Some(second)) =
                (self.shortest_path(from, hub), self.shortest_path(hub, to))
            else {
                continue;
            };
            let mut sites = first.sites.clone();
            sites.extend_from_slice(&second.sites[1..]);
            let mut seen = sites.clone();
            seen.sort_unstable();
            seen.dedup();
            if seen.len() != sites.len() {
                continue; // it would come back through a site it passed
            }
            let mut links = first.links;
            links.extend_from_slice(&second.links);
            if paths.iter().any(|path| path.links == links) {
                continue;
            }
            paths.push(Path {
                links,
                sites,
                latency: first.latency + second.latency,
            });
        }
        paths
    }
}

/// Paths from each site to each deployment's site, computed once:
/// `paths[site][deployment]` holds the shortest path first, then the shortest through each
/// hub where that differs (see [`Topology::paths_via`]). Only sites that are some tenant's
/// ingress get rows.
pub struct PathCache {
    rows: Vec<Option<Vec<Vec<Path>>>>,
}

impl PathCache {
    pub fn new(
        topology: &Topology,
        site_count: usize,
        ingress_sites: &[SiteIndex],
        deployment_sites: &[SiteIndex],
        hubs: &[SiteIndex],
    ) -> Self {
        let mut rows = vec![None; site_count];
        for &ingress in ingress_sites {
            if rows[ingress].is_none() {
                rows[ingress] = Some(
                    deployment_sites
                        .iter()
                        .map(|&site| topology.paths_via(ingress, site, hubs))
                        .collect(),
                );
            }
        }
        PathCache { rows }
    }

    /// The shortest path from `ingress` to deployment number `deployment`, if one exists.
    pub fn path(&self, ingress: SiteIndex, deployment: usize) -> Option<&Path> {
        self.options(ingress, deployment).first()
    }

    /// Every path from `ingress` to deployment number `deployment`, shortest first.
    pub fn options(&self, ingress: SiteIndex, deployment: usize) -> &[Path] {
        self.rows
            .get(ingress)
            .and_then(|row| row.as_ref())
            .and_then(|row| row.get(deployment))
            .map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::SiteKind;

    fn site(id: &str, location: (f64, f64)) -> Site {
        Site {
            screening: None,
            id: id.into(),
            kind: SiteKind::Region,
            jurisdiction: "XX".into(),
            location: Some(location),
        }
    }

    fn link(ends: (usize, usize), millis: u64, up: bool) -> Link {
        Link {
            id: format!("{}-{}", ends.0, ends.1),
            ends,
            latency: SimDuration::from_millis(millis),
            latency_derived: false,
            jitter: None,
            bandwidth_bits_per_s: None,
            usd_per_gb: 0.0,
            up,
        }
    }

    #[test]
    fn singapore_to_hong_kong_great_circle() {
        let km = great_circle_km((1.35, 103.82), (22.32, 114.17));
        println!("Singapore–Hong Kong expected ≈2588 km, actual {km:.1} km");
        assert!((km - 2588.0).abs() < 5.0);
        assert_eq!(great_circle_km((10.0, 20.0), (10.0, 20.0)), 0.0);
    }

    #[test]
    fn shortest_path_prefers_two_fast_hops_over_one_slow_link_and_skips_down_links() {
        let sites: Vec<Site> = (0..4)
            .map(|i| site(&format!("s{i}"), (0.0, i as f64)))
            .collect();
        let links = vec![
            link((0, 3), 100, true), // direct but slow
            link((0, 1), 10, true),
            link((1, 3), 20, true), // 30 ms through site 1
            link((0, 2), 1, false), // fast but down
            link((2, 3), 1, false),
        ];
        let topology = Topology::new(&sites, &links);
        let path = topology.shortest_path(0, 3).expect("connected");
        assert_eq!(
            path,
            Path {
                links: vec![1, 2],
                sites: vec![0, 1, 3],
                latency: SimDuration::from_millis(30)
            }
        );
        assert_eq!(
            topology.shortest_path(3, 0).map(|p| p.latency),
            Some(SimDuration::from_millis(30))
        );
        assert_eq!(
            topology.shortest_path(2, 2),
            Some(Path {
                links: vec![],
                sites: vec![2],
                latency: SimDuration::ZERO
            })
        );
        assert_eq!(topology.shortest_path(0, 2), None);
        // Through site 1 is the shortest path already: no second path.
        assert_eq!(topology.paths_via(0, 3, &[1]).len(), 1);
    }

    #[test]
    fn paths_through_each_hub_follow_the_shortest() {
        // 0 —10— 1 —10— 3 (20 ms), and 0 —15— 2 —15— 3 (30 ms) through hub 2.
        let sites: Vec<Site> = (0..4)
            .map(|i| site(&format!("s{i}"), (0.0, i as f64)))
            .collect();
        let links = vec![
            link((0, 1), 10, true),
            link((1, 3), 10, true),
            link((0, 2), 15, true),
            link((2, 3), 15, true),
        ];
        let topology = Topology::new(&sites, &links);
        let paths = topology.paths_via(0, 3, &[1, 2]);
        let summary: Vec<(Vec<usize>, u64)> = paths
            .iter()
            .map(|path| (path.sites.clone(), path.latency.as_nanos() / 1_000_000))
            .collect();
        println!("paths: {summary:?}");
        assert_eq!(summary, vec![(vec![0, 1, 3], 20), (vec![0, 2, 3], 30)]);
    }
}
