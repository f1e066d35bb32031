"""The digests ``registrykit.lab.samples`` must produce, on every machine."""

# The digests every machine builds; notebooks' stored outputs rely on them.
EXPECTED = {
    ("samples/hello", "1.0.0"): "9bd53b83d6b372d8379eaccdde428982603588711a681458e66d0a1d5b190221",
    ("samples/base", "1.0"): "51fee414415d0bbfa75c3d97e0c6c763b658e0cce10bd14652f503389177c52f",
    (
        "samples/webapp",
        "v1.0.0",
    ): "18b2faac98d8c0188170ed4d0637a432ad613410b774f20d5849f13f7f8e292f",
    (
        "samples/webapp",
        "v1.3.0",
    ): "bd2d5be40a3f6588e9837101eec8df8894ca881961cd539d31a3703a4c8478d5",
    (
        "samples/webapp",
        "v1.4.0",
    ): "8e36df74cb075ab3af18d8943f281f34b6cba5c0d465388b3afa80d3bdfee480",
    ("samples/api", "2.1.0"): "100250f86d2b4d8254cd41487a33bc0f829b1785f9ed71c735ed55b30c70cc40",
    ("samples/worker", "0.9.0"): "4a28333babe5ed8f86e36228a0b9e77ee9e42835e86b4b67cbafff24c278165f",
    ("samples/bloated", "1.0"): "f43a9a88404ccad35eb1764e74f782c096fdd397850c6bf3dd5729446fb730b2",
    (
        "samples/charts/webapp",
        "0.1.0",
    ): "f5e2caab3cf829025d748fe0462e815d751110f847ab36ad6f6251b0a1fdd6df",
}
