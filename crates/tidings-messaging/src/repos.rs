//! The repositories the messaging services use, as one trait object.

use tidings_domain::{
    AppointmentRepo, CompanyRepo, ContactRepo, ConversationRepo, DeviceRepo, EventRepo, FeedRepo,
    MessageRepo, UnitOfWork, UploadRepo, UserRepo,
};

/// Every repository the messaging services use, and units of work over them; any store
/// implementing all of them is one.
pub trait MessagingRepos:
    ContactRepo
    + DeviceRepo
    + ConversationRepo
    + MessageRepo
    + FeedRepo
    + EventRepo
    + UserRepo
    + CompanyRepo
    + AppointmentRepo
    + UploadRepo
    + UnitOfWork
{
}

impl<T> MessagingRepos for T where
    T: ContactRepo
        + DeviceRepo
        + ConversationRepo
        + MessageRepo
        + FeedRepo
        + EventRepo
        + UserRepo
        + CompanyRepo
        + AppointmentRepo
        + UploadRepo
        + UnitOfWork
{
}
