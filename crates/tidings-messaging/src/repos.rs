//! The repositories the messaging services use, as one trait object.

use tidings_domain::{ContactRepo, ConversationRepo, DeviceRepo, EventRepo, MessageRepo, UserRepo};

/// Every repository the messaging services use; any store implementing all of them is one.
pub trait MessagingRepos:
    ContactRepo + DeviceRepo + ConversationRepo + MessageRepo + EventRepo + UserRepo
{
}

impl<T: ContactRepo + DeviceRepo + ConversationRepo + MessageRepo + EventRepo + UserRepo> MessagingRepos
    for T
{
}
