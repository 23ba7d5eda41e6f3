//! Workloads: what is measured, as plain functions tested for what they compute and allocate
//! (stack arrays and heap blocks, first touch, locality, contention, recursion depth), and the
//! allocators they run on.

pub mod allocators;
pub mod arrays;
pub mod contention;
pub mod depth;
pub mod first_touch;
pub mod locality;
