import factory

from accounts.tests.factories import UserFactory
from chat.models import Conversation, Message, Participant
from listings.tests.factories import ListingFactory


class ConversationFactory(factory.django.DjangoModelFactory):
    """A conversation with both participants' state rows (as the service makes)."""

    class Meta:
        model = Conversation
        skip_postgeneration_save = True

    listing = factory.SubFactory(ListingFactory)
    buyer = factory.SubFactory(UserFactory)
    seller = factory.LazyAttribute(lambda o: o.listing.owner)

    @factory.post_generation
    def participants(self, create, extracted, **kwargs):
        if create:
            Participant.objects.bulk_create(
                [
                    Participant(conversation=self, user=self.buyer),
                    Participant(conversation=self, user=self.seller),
                ]
            )


class MessageFactory(factory.django.DjangoModelFactory):
    """A stored message; bypasses the service (no broadcast, no counters)."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    sender = factory.LazyAttribute(lambda o: o.conversation.buyer)
    text = factory.Sequence(lambda n: f"Message {n}")
