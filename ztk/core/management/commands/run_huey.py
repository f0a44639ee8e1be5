"""`ztk run_huey`: Huey's consumer command, plus a stop every task can see and none
of its leases left held when it exits (rules in ztk/core/worker.py)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils.module_loading import autodiscover_modules
from huey.consumer_options import ConsumerConfig
from huey.contrib.djhuey.management.commands.run_huey import Command as HueyCommand

from ztk.core.leases import release_held
from ztk.core.worker import watch_stop_flag

log = logging.getLogger("huey")


class Command(HueyCommand):
    help = (
        "Run the background worker (Huey consumer). Long tasks stop between chunks when it "
        "is asked to stop; task locks still held when it exits are released."
    )

    def handle(self, *args, **options):
        # Huey's own handle(), with the consumer kept at hand.
        from huey.contrib.djhuey import HUEY

        huey_settings: dict[str, Any] = settings.HUEY
        consumer_options = dict(huey_settings.get("consumer", {}))
        consumer_options.update({k: v for k, v in options.items() if v is not None})
        if not options.get("disable_autoload"):
            autodiscover_modules("tasks")
        config = ConsumerConfig(**consumer_options)
        config.validate()
        if not log.handlers:
            config.setup_logger(log)
        consumer = HUEY.create_consumer(**config.values)
        watch_stop_flag(consumer.stop_flag)
        try:
            consumer.run()
        finally:
            # Returns after a stop; a task past the grace period is abandoned mid-way (its
            # transaction dies with the process): its leases — this process's only, never
            # another consumer's — are released.
            released = release_held()
            if released:
                log.warning("released at stop: %s", ", ".join(released))
