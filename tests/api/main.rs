//! Black-box tests of the Worker under a real `wrangler dev` with a real local D1.
//! One binary; each test makes its own workspace, so tests never see each other's data.

mod admin;
mod agents;
mod assets;
mod browser;
mod chat;
mod console;
mod context;
mod conversations;
mod crawl;
mod email;
mod evidence;
mod faults;
mod identity;
mod inbox;
mod keys;
mod knowledge;
mod limits;
mod live;
mod llm;
mod model;
mod people;
mod rerank;
mod restart;
mod semantic;
mod settings;
mod setup;
mod tickets;
mod trips;
mod validation;
mod worklist;
