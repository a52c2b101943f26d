using System.ComponentModel.DataAnnotations;
using ReaSeq.Models.Dllm;
using ReaSeq.Models.Training;
using ReaSeq.Tests.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Models.Dllm;

[Trait(Tier.Name, Tier.Integration)]
[Collection(TorchCollection.Name)]
public sealed class LladaTinyTests
{
    private const int RingSeed = 77;

    private static LladaTinyOptions SmallOptions(LladaLoss loss = LladaLoss.SampledSoftmax) => new()
    {
        Layers = 2,
        ModelDim = 32,
        Heads = 4,
        FeedForwardDim = 64,
        MaxLength = 16,
        ItemVectorDim = 32,
        Dropout = 0,
        LearningRate = 3e-3,
        WarmupSteps = 20,
        TotalSteps = 400,
        Loss = loss,
        Device = "cpu",
    };

    private static Interaction RingBatch(Random random, int batchSize, int unlabeledPerSequence = 1) =>
        LladaTinyFactory.RingWalkBatch(CPU, random, batchSize, ringSize: 24, itemVectorDim: 32, length: 16,
            labeledPerSequence: 3, unlabeledPerSequence: unlabeledPerSequence, ringSeed: RingSeed);

    [Fact]
    public void Learns_to_infer_a_masked_ring_item_from_its_neighbours_far_above_chance()
    {
        var random = Determinism.Seed(5);
        using var model = LladaTiny.Create(SmallOptions());
        using var trainer = new LladaTrainer(model);
        const int batchSize = 64;

        using (var before = RingBatch(new Random(99), batchSize))
        {
            var untrained = model.Evaluate(before);
            Assert.True(untrained.Mask.Accuracy < 0.3, $"Untrained IB-ACC already {untrained.Mask.Accuracy:P1}.");
        }
        for (int step = 0; step < 300; step++)
        {
            using var batch = RingBatch(random, batchSize);
            trainer.Step(batch);
        }

        using var held = RingBatch(new Random(99), batchSize);
        var evaluation = model.Evaluate(held);
        // Chance is about 1/64: the positive against one item from each of the 63 other sequences.
        Assert.True(evaluation.Mask.Accuracy > 0.6, $"IB-ACC on [MASK] {evaluation.Mask.Accuracy:P1}, IB-PPL {evaluation.Mask.Perplexity:G4}.");
        Assert.True(evaluation.Mask.Perplexity < 10, $"IB-PPL on [MASK] {evaluation.Mask.Perplexity:G4}.");
        Assert.True(evaluation.Fill.Samples > 0 && double.IsFinite(evaluation.Fill.Perplexity));
        Assert.Equal(300, trainer.StepsTaken);
    }

    [Theory]
    [InlineData(LladaLoss.SampledSoftmax)]
    [InlineData(LladaLoss.Cosine)]
    [InlineData(LladaLoss.Euclidean)]
    public void Each_loss_is_finite_and_falls_on_a_fixed_batch(LladaLoss loss)
    {
        Determinism.Seed(7);
        using var model = LladaTiny.Create(SmallOptions(loss));
        using var trainer = new LladaTrainer(model);
        using var batch = RingBatch(new Random(3), 32);
        // A fixed mask makes the loss a deterministic function of the weights, so its fall is clean.
        batch.Add(LladaTiny.MaskField, batch[LladaTiny.PositionKindsField] == (long)PositionKind.LabeledFill);

        var losses = Enumerable.Range(0, 60).Select(_ => trainer.Step(batch)).ToArray();

        Assert.All(losses, value => Assert.True(float.IsFinite(value), $"{loss}: loss {value}."));
        double early = losses.Take(5).Average(), late = losses.TakeLast(5).Average();
        Assert.True(late < early * 0.8, $"{loss}: loss went from {early:G4} to {late:G4}.");
    }

    [Fact]
    public void Save_and_load_give_identical_outputs()
    {
        Determinism.Seed(9);
        var options = SmallOptions();
        options.Dropout = 0.1;
        using var model = LladaTiny.Create(options);
        using (var trainer = new LladaTrainer(model))
        using (var batch = RingBatch(new Random(1), 16))
        {
            for (int step = 0; step < 5; step++) trainer.Step(batch);
        }
        model.SetTraining(false);
        using var probe = RingBatch(new Random(2), 8);
        using var before = model.Predict(probe);
        using var stream = new MemoryStream();

        model.Save(stream);
        stream.Position = 0;
        using var loaded = LladaTiny.Load(stream, device: "cpu");
        loaded.SetTraining(false);
        using var after = loaded.Predict(probe);

        Assert.True(before.eq(after).all().item<bool>(), "Outputs differ after a save/load round trip.");
        Assert.Equal(options.Dropout, loaded.Options.Dropout);
        Assert.Equal(options.Layers, loaded.Options.Layers);
        using var garbage = new MemoryStream("not a model"u8.ToArray());
        Assert.Throws<InvalidDataException>(() => LladaTiny.Load(garbage));
    }

    [Fact]
    public void Fill_returns_projected_states_at_every_unlabeled_gap_without_reading_the_vectors_behind_it()
    {
        Determinism.Seed(13);
        using var model = LladaTiny.Create(SmallOptions());
        using var batch = RingBatch(new Random(4), 6, unlabeledPerSequence: 2);
        var kinds = batch[LladaTiny.PositionKindsField];
        long gaps = (kinds == (long)PositionKind.UnlabeledFill).sum().item<long>();
        model.SetTraining(true);

        using var filled = model.Fill(batch);

        Assert.Equal(new long[] { gaps, 32 }, filled.Vectors.shape);
        Assert.True(model.training, "Fill must restore the training flag.");
        var sequences = filled.Sequences.data<long>().ToArray();
        var positions = filled.Positions.data<long>().ToArray();
        for (int i = 0; i < sequences.Length; i++)
            Assert.Equal((long)PositionKind.UnlabeledFill, kinds[sequences[i], positions[i]].item<long>());

        // Whatever sits in the vector slot of a [FILL] must not matter: the shared embedding replaces it.
        using var noisy = new Interaction()
            .Add(LladaTiny.ItemVectorsField, batch[LladaTiny.ItemVectorsField] + (kinds == (long)PositionKind.UnlabeledFill).unsqueeze(2) * 5f)
            .Add(LladaTiny.PositionKindsField, kinds.clone());
        using var refilled = model.Fill(noisy);
        Assert.True(filled.Vectors.allclose(refilled.Vectors, rtol: 0, atol: 1e-6));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public void Fill_gives_the_full_forward_outputs_at_the_gaps(int layers, bool withMask)
    {
        // Fill runs its own inference path (adapter over item positions only, in-place blocks, last block only at
        // the gaps); it must agree with the plain forward that training uses, up to float rounding.
        Determinism.Seed(23);
        var options = SmallOptions();
        options.Layers = layers;
        options.MaxLength = 20;
        using var model = LladaTiny.Create(options);
        using var ring = RingBatch(new Random(8), 5, unlabeledPerSequence: 2);
        var ringKinds = ring[LladaTiny.PositionKindsField];
        // Padding at the end whose vector slots hold noise, and noise behind the gaps.
        var kinds = cat([ringKinds, zeros(5, 4, ScalarType.Int64)], 1);
        var vectors = cat([ring[LladaTiny.ItemVectorsField] + (ringKinds == (long)PositionKind.UnlabeledFill).unsqueeze(2) * 2f, randn(5, 4, 32)], 1);
        using var batch = new Interaction().Add(LladaTiny.ItemVectorsField, vectors).Add(LladaTiny.PositionKindsField, kinds);
        if (withMask) batch.Add(LladaTiny.MaskField, (kinds == (long)PositionKind.LabeledFill).logical_and(rand(5, 20) < 0.5));
        model.SetTraining(true);

        using var filled = model.Fill(batch);
        model.SetTraining(false);
        using var full = model.Predict(batch);

        var expected = full.index(TensorIndex.Tensor(filled.Sequences), TensorIndex.Tensor(filled.Positions));
        Assert.Equal(expected.shape, filled.Vectors.shape);
        Assert.Equal(10, filled.Vectors.shape[0]);
        var difference = (expected - filled.Vectors).abs().max().item<float>();
        Assert.True(difference < 1e-5, $"Fill differs from the full forward by {difference:G3}.");
    }

    [Theory]
    [InlineData(1, 16)]
    [InlineData(2, 32)]
    public void A_fill_is_bitwise_the_same_whatever_else_shares_its_call(int layers, int modelDim)
    {
        // The dllm role re-publishes identical records on a replay only if a window's fill does not depend on its
        // companions. Before the row counts were padded, the batch's only gap (one row through the last block) came
        // out different in its last bits from the same gap beside others, and so did three gaps.
        Determinism.Seed(5);
        var options = SmallOptions();
        (options.Layers, options.ModelDim, options.FeedForwardDim) = (layers, modelDim, 2 * modelDim);
        using var model = LladaTiny.Create(options);
        const int rows = 16, length = 16, dim = 32, targetLength = 13, targetGap = 7;
        var random = new Random(3);
        var target = Enumerable.Range(0, targetLength * dim).Select(_ => (float)random.NextDouble()).ToArray();
        var fills = new HashSet<string>();
        // 0 to 15 companions with gaps (some with two), the rest padding rows; the target at a different row each time.
        for (int companions = 0; companions < rows; companions++)
        {
            var vectors = new float[rows * length * dim];
            var kinds = new long[rows * length];
            int targetRow = companions == 0 ? 0 : random.Next(companions + 1);
            for (int row = 0; row < rows; row++)
            {
                bool real = row <= companions;
                int items = row == targetRow ? targetLength : real ? random.Next(4, length + 1) : 1;
                for (int p = 0; p < items; p++)
                {
                    kinds[row * length + p] = (long)PositionKind.Observed;
                    for (int d = 0; d < dim && real; d++)
                        vectors[(row * length + p) * dim + d] = row == targetRow ? target[p * dim + d] : (float)random.NextDouble();
                }
                if (row == targetRow) kinds[row * length + targetGap] = (long)PositionKind.UnlabeledFill;
                else if (real) kinds[row * length + 2] = kinds[row * length + (companions % 2 == 0 ? 2 : 3)] = (long)PositionKind.UnlabeledFill;
            }
            foreach (int threads in new[] { 1, 2 })
            {
                TorchDevice.SetCpuThreads(threads);
                using var batch = new Interaction()
                    .Add(LladaTiny.ItemVectorsField, tensor(vectors).reshape(rows, length, dim))
                    .Add(LladaTiny.PositionKindsField, tensor(kinds).reshape(rows, length));
                using var filled = model.Fill(batch);
                int index = Array.IndexOf(filled.Sequences.data<long>().ToArray(), (long)targetRow);
                Assert.Equal(targetGap, filled.Positions[index].item<long>());
                fills.Add(Convert.ToHexString(filled.Vectors[index].data<float>().ToArray().SelectMany(BitConverter.GetBytes).ToArray()));
            }
        }
        TorchDevice.SetCpuThreads(1); // the collection's setting
        Assert.Single(fills);
    }

    [Fact]
    public void Masked_targets_do_not_leak_into_the_input()
    {
        Determinism.Seed(17);
        using var model = LladaTiny.Create(SmallOptions());
        model.SetTraining(false);
        using var batch = RingBatch(new Random(5), 4);
        var kinds = batch[LladaTiny.PositionKindsField];
        var labeled = kinds == (long)PositionKind.LabeledFill;
        using var masked = new Interaction()
            .Add(LladaTiny.ItemVectorsField, batch[LladaTiny.ItemVectorsField].clone())
            .Add(LladaTiny.PositionKindsField, kinds.clone())
            .Add(LladaTiny.MaskField, labeled.clone());
        using var scrambled = new Interaction()
            .Add(LladaTiny.ItemVectorsField, batch[LladaTiny.ItemVectorsField] + labeled.unsqueeze(2) * 3f)
            .Add(LladaTiny.PositionKindsField, kinds.clone())
            .Add(LladaTiny.MaskField, labeled.clone());

        using var first = model.Predict(masked);
        using var second = model.Predict(scrambled);

        Assert.True(first.allclose(second, rtol: 0, atol: 1e-6));
        Assert.Equal(new long[] { 4, 16, 32 }, first.shape);
    }

    [Fact]
    public void Padding_is_invisible_to_the_real_positions()
    {
        Determinism.Seed(19);
        var options = SmallOptions();
        options.MaxLength = 20;
        using var model = LladaTiny.Create(options);
        model.SetTraining(false);
        using var batch = RingBatch(new Random(6), 4);
        // Four more positions of padding whose vector slots hold noise.
        using var padded = new Interaction()
            .Add(LladaTiny.ItemVectorsField, cat([batch[LladaTiny.ItemVectorsField], randn(4, 4, 32)], 1))
            .Add(LladaTiny.PositionKindsField, cat([batch[LladaTiny.PositionKindsField], zeros(4, 4, ScalarType.Int64)], 1));
        var real = (batch[LladaTiny.PositionKindsField] != (long)PositionKind.Padding).unsqueeze(2);

        using var plain = model.Predict(batch);
        using var extended = model.Predict(padded);

        var difference = (plain - extended.narrow(1, 0, 16)).abs() * real;
        Assert.True(difference.max().item<float>() < 1e-5, $"Padding changed real outputs by {difference.max().item<float>():G3}.");
    }

    [Fact]
    public void Device_cpu_gives_cpu_and_an_unknown_device_fails_clearly()
    {
        using var model = LladaTiny.Create(SmallOptions());
        Assert.Equal(DeviceType.CPU, model.Device.type);
        Assert.All(model.TrainableParameters(), parameter => Assert.Equal(DeviceType.CPU, parameter.device.type));

        var options = SmallOptions();
        options.Device = "tpu";
        var error = Assert.Throws<ArgumentException>(() => LladaTiny.Create(options));
        Assert.Contains("Unknown device 'tpu'", error.Message);
    }

    [Fact]
    public void Options_default_to_the_paper_and_reject_inconsistent_shapes()
    {
        var defaults = new LladaTinyOptions();
        Assert.Equal((4, 128, 8, 200, 384, 0.07, 0.0075), (defaults.Layers, defaults.ModelDim, defaults.Heads,
            defaults.MaxLength, defaults.ItemVectorDim, defaults.Temperature, defaults.LearningRate));
        defaults.Validate();

        var heads = new LladaTinyOptions { ModelDim = 100, Heads = 8 };
        Assert.Contains("divisible", Assert.Throws<ValidationException>(heads.Validate).Message);
        var temperature = new LladaTinyOptions { Temperature = 0 };
        Assert.Contains(nameof(LladaTinyOptions.Temperature), Assert.Throws<ValidationException>(temperature.Validate).Message);
        var warmup = new LladaTinyOptions { WarmupSteps = 10, TotalSteps = 5 };
        Assert.Throws<ValidationException>(warmup.Validate);
    }

    [Fact]
    public void A_batch_without_labeled_positions_is_rejected_with_a_reason()
    {
        using var model = LladaTiny.Create(SmallOptions());
        using var batch = new Interaction()
            .Add(LladaTiny.ItemVectorsField, zeros(2, 4, 32))
            .Add(LladaTiny.PositionKindsField, ones(2, 4, ScalarType.Int64));

        var error = Assert.Throws<ArgumentException>(() => model.CalculateLoss(batch));
        Assert.Contains(nameof(PositionKind.LabeledFill), error.Message);
    }

    [Fact]
    public void Masking_observed_items_trains_on_windows_without_labels_and_allows_observed_eval_masks()
    {
        Determinism.Seed(23);
        var options = SmallOptions();
        options.MaskObservedItems = true;
        using var model = LladaTiny.Create(options);
        var observed = ones(2, 4, ScalarType.Int64) * (long)PositionKind.Observed;
        using var batch = new Interaction()
            .Add(LladaTiny.ItemVectorsField, randn(2, 4, 32))
            .Add(LladaTiny.PositionKindsField, observed);

        using var loss = model.CalculateLoss(batch);
        Assert.True(float.IsFinite(loss.item<float>()));

        var mask = zeros(2, 4, ScalarType.Bool);
        mask[0, 1] = tensor(true);
        using var masked = new Interaction()
            .Add(LladaTiny.ItemVectorsField, batch[LladaTiny.ItemVectorsField].clone())
            .Add(LladaTiny.PositionKindsField, observed.clone())
            .Add(LladaTiny.MaskField, mask);
        using var maskedLoss = model.CalculateLoss(masked);
        Assert.True(float.IsFinite(maskedLoss.item<float>()));

        // Without the option an observed position may not be a [MASK].
        using var plain = LladaTiny.Create(SmallOptions());
        var error = Assert.Throws<ArgumentException>(() => plain.CalculateLoss(masked));
        Assert.Contains("may only mark", error.Message);
    }

    [Fact]
    public void A_target_log_prior_is_subtracted_from_every_in_batch_logit()
    {
        Determinism.Seed(31);
        using var model = LladaTiny.Create(SmallOptions());
        using var batch = RingBatch(new Random(5), 8);
        var kinds = batch[LladaTiny.PositionKindsField];
        var mask = kinds == (long)PositionKind.LabeledFill;
        batch.Add(LladaTiny.MaskField, mask);
        var prior = rand(kinds.shape) * -6; // log q in (-6, 0]: items differ by up to 6 nats
        Interaction WithPrior(Tensor logPrior) => new Interaction()
            .Add(LladaTiny.ItemVectorsField, batch[LladaTiny.ItemVectorsField])
            .Add(LladaTiny.PositionKindsField, kinds)
            .Add(LladaTiny.MaskField, mask)
            .Add(LladaTiny.TargetLogPriorField, logPrior);
        using var plain = model.CalculateLoss(batch);
        using var corrected = model.CalculateLoss(WithPrior(prior));

        // The same loss written out: cosine / τ − log q of the column's target, same-item columns hidden, cross-entropy.
        using var outputs = model.Predict(batch);
        var maskedIndex = mask.flatten().nonzero().squeeze(1);
        var predictions = nn.functional.normalize(outputs.reshape(-1, 32).index_select(0, maskedIndex), p: 2, dim: 1);
        var targets = nn.functional.normalize(batch[LladaTiny.ItemVectorsField].reshape(-1, 32).index_select(0, maskedIndex), p: 2, dim: 1);
        var logits = predictions.matmul(targets.t()) / 0.07 - prior.flatten().index_select(0, maskedIndex).view(1, -1);
        long count = maskedIndex.shape[0];
        var sameItem = targets.matmul(targets.t()).gt(1 - 1e-6).logical_and(eye(count, dtype: ScalarType.Bool).logical_not());
        using var expected = nn.functional.cross_entropy(logits.masked_fill(sameItem, double.NegativeInfinity), arange(count, dtype: ScalarType.Int64));

        Assert.Equal(expected.item<float>(), corrected.item<float>(), 3);
        Assert.NotEqual(plain.item<float>(), corrected.item<float>(), 2);

        // A prior that is the same for every item shifts every logit equally and changes nothing.
        using var uniform = model.CalculateLoss(WithPrior(full_like(prior, -3.5)));
        Assert.Equal(plain.item<float>(), uniform.item<float>(), 4);

        var error = Assert.Throws<ArgumentException>(() => model.CalculateLoss(WithPrior(zeros(8, 3))));
        Assert.Contains(LladaTiny.TargetLogPriorField, error.Message);
    }
}
