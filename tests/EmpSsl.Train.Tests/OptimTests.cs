using EmpSsl.Train.IO;
using EmpSsl.Train.Optim;

namespace EmpSsl.Train.Tests;

public class OptimTests
{
    [Fact]
    public void CosineGoesFromBaseToZero()
    {
        var s = new CosineSchedule(0.3f, 100);
        Assert.Equal(0.3f, s.At(0), 6);
        Assert.Equal(0.15f, s.At(50), 5);
        Assert.Equal(0f, s.At(100), 6);
        Assert.True(s.At(30) > s.At(31));
    }

    [Fact]
    public void WarmupRisesLinearlyThenDecays()
    {
        var s = new CosineSchedule(1f, 110, WarmupSteps: 10);
        Assert.Equal(0.1f, s.At(0), 6);
        Assert.Equal(1f, s.At(9), 6);
        Assert.Equal(1f, s.At(10), 6);
        Assert.Equal(0.5f, s.At(60), 5);
    }

    [Fact]
    public void AtomicWriteLeavesTheOldFileWhenTheWriterFails()
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        string path = Path.Combine(dir, "ckpt.bin");
        AtomicFile.WriteAllText(path, "good");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.WriteByte(1);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal("good", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
    }
}
