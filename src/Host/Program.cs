Console.WriteLine("reaseq");
