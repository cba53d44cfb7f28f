// STUB: replaced by the benchmark driver.
System.Console.Error.WriteLine("EmpSsl.Bench: not built yet");
return 2;
