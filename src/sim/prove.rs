//! `keyproof prove`: replays who-can answers in the simulator.
