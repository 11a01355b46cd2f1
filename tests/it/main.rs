//! One test binary: one link, one PostgreSQL start for the whole run.

mod assets;
mod audit;
mod auth;
mod browser;
mod coding;
mod compare;
mod demo;
mod embedded;
mod errors;
mod exports;
mod harness;
mod input;
mod lifecycle;
mod live;
mod openapi;
mod participants;
mod projects;
mod reconcile;
mod refi;
mod review;
mod routes;
mod saturation;
mod server;
mod tables;
mod themes;
mod transcripts;
