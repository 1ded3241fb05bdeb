//! Tidings messaging: conversation and message services, delivery receipts, typing and presence, and
//! the realtime hub with its fan-out bus. Being built; see the open issues for what lands here next.
