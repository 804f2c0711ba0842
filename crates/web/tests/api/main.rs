//! Integration tests of the HTTP edge, against the real application on a local port.
//! One binary (faster to build and link than one per file); the areas are modules.
//!
//! Run on SQLite: `cargo nextest run -p greenbridge-web`; on PostgreSQL, set
//! `TEST_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres`
//! (each test gets its own database; see `support`).

#[path = "../support/mod.rs"]
mod support;

mod forms;
mod helpers;
mod mail;
mod ops;
mod pages;
mod proxy;
mod register;

mod accounts;
mod admin;
mod api_v1;
mod claims;
mod courses;
mod files;
mod flows;
mod hall;
mod jobs;
mod notifications;
mod qa;
mod qa_generate;
mod regulations;
mod reviews;
mod search;
mod supplier_imports;
mod suppliers;
